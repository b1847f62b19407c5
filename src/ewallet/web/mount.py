"""Mounting the web front ends on the app: the staff console under ``/console``, the
merchant portal under ``/merchant``, the wallet's pages at ``/`` and the static files (our
stylesheets and scripts, icons, vendored htmx) at ``/static``.

``create_app`` calls :func:`install_web` right after the health router, before every API
router: a page is then matched against the pages only, not against the ~200 API routes
first (docs/performance.md). Each front end is included as a
:class:`~ewallet.web.kit.routing.PageRouter`, which answers "no match" at once for a path
under ``/v1/``, so no page can shadow an API route (``tests/web/test_page_routing.py``).
Rules for adding a front end here:

- include it with :func:`~ewallet.web.kit.routing.front_end`, with ``under=`` its prefix
  when all its pages live under one (``/console``, ``/merchant``): then a request outside
  it costs one string test;
- put it before the wallet's line: the wallet serves ``/`` and the rest of the root, and is
  told (``never=``) which prefixes belong to the other front ends;
- the static files come last.

The three :class:`~ewallet.web.kit.routing.PageRouter` objects are built once per process
(:func:`front_ends`) and included in every app the process makes. Including a router
without a prefix makes FastAPI work out every one of its routes (their dependencies and
signatures: about 0.1 s of CPU for the ~250 pages), and it keeps that work on the router
included; a fresh ``PageRouter`` per app paid it again for each app, which the test suite
(thousands of apps) and every worker start felt. The routers hold no per-app state: a page
reaches its app's services through the request.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ewallet.web.console.routes import router as console_router
from ewallet.web.kit.routing import API_PREFIX, PageRouter, front_end
from ewallet.web.kit.templates import STATIC_PATH
from ewallet.web.merchant.routes import router as merchant_router
from ewallet.web.wallet.routes import router as wallet_router

CONSOLE: Final = "/console"
MERCHANT: Final = "/merchant"


@cache
def front_ends() -> tuple[PageRouter, ...]:
    """The console, the merchant portal and the wallet, in the order they are matched."""
    others = (API_PREFIX, CONSOLE + "/", MERCHANT + "/")
    return (
        front_end(console_router, under=CONSOLE),
        front_end(merchant_router, under=MERCHANT),
        front_end(wallet_router, never=others),
    )


def install_web(app: FastAPI) -> None:
    for pages in front_ends():
        app.include_router(pages)
    folder = resources.files("ewallet.web") / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=str(folder)), name="static")
