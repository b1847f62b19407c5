"""FastAPI dependencies of help that other features' endpoints use too: the app's search.

The search index lives with the app (one per process, made on first use), so routers and
sockets get it here and hand it to :mod:`ewallet.help.service`; no other module reads
``app.state`` for it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from ewallet.help.search import HelpSearch

__all__ = ["HelpSearch", "HelpSearchDep", "app_help_search", "get_help_search"]


def app_help_search(app: Any) -> HelpSearch:
    """The app's search, made on first use (one per app, i.e. per process and test)."""
    search: HelpSearch | None = getattr(app.state, "help_search", None)
    if search is None:
        search = HelpSearch()
        app.state.help_search = search
    return search


async def get_help_search(request: Request) -> HelpSearch:
    return app_help_search(request.app)


HelpSearchDep = Annotated[HelpSearch, Depends(get_help_search)]
