"""The route class of every page: what a page handler does not catch becomes a page.

- no signed-in user (``WebUser``): ``303`` to the sign-in page, which comes back after;
- a form without this browser's token (``PostedForm``): ``403`` page, nothing changed;
- a service refusal the handler let through (``DomainError``: another user's id is
  ``not_found``, a frozen account, ...): a page with the refusal in the reader's language and
  the error's status -- never the problem JSON of the API, never a stack trace.

And the router a front end is mounted with (``PageRouter``, :mod:`ewallet.web.mount`): the
page routers are matched right after ``/healthz``, before the API's, so that a page request
does not walk every API route; each answers "no match" at once, with one string test, for a
path it can never serve -- anything under ``/v1/`` (the API) and, for a front end with its
own prefix (``/console``), anything outside that prefix -- so an API path is never
shadowed by a page and costs one test per front end (``tests/web/test_page_routing.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from ewallet.http.deps import app_services
from ewallet.kit.errors import DomainError
from ewallet.web.kit.auth import SignInRequired, sign_in_url
from ewallet.web.kit.forms import CsrfRefused
from ewallet.web.kit.pages import PAGE_HEADERS, page, refusal

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
API_PREFIX: Final = "/v1/"


class WebRoute(APIRoute):
    """The wallet's pages; the console and the merchant portal subclass it and say where
    their sign-in page is and how their refusal page is drawn."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Pages answer HTML: declared, so that the maintenance guard refuses a form's post
        # with a page in the reader's language rather than a problem document.
        kwargs["response_class"] = HTMLResponse
        super().__init__(path, endpoint, **kwargs)

    def sign_in_url(self, next_path: str) -> str:
        return sign_in_url(next_path)

    async def refused(
        self, request: Request, *, status_code: int, reason: str, error: str | None = None
    ) -> Response:
        return await page(
            request,
            app_services(request.app),
            "wallet/refused.html",
            status_code=status_code,
            reason=reason,
            error=error,
        )

    async def caught(self, request: Request, error: Exception) -> Response | None:
        """A subclass's answer to an exception the base does not know, or None."""
        return None

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired as needed:
                return redirect(request, self.sign_in_url(needed.next_path))
            except CsrfRefused:
                return await self.refused(request, status_code=403, reason="csrf")
            except Exception as error:
                special = await self.caught(request, error)
                if special is not None:
                    return special
                if not isinstance(error, DomainError):
                    raise
                return await self.refused(
                    request,
                    status_code=error.status,
                    reason=error.code,
                    error=refusal(request, error),
                )

        return answer


def redirect(request: Request, url: str) -> Response:
    """``303`` to ``url``; an htmx request gets ``HX-Redirect`` (a full navigation) instead."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={**PAGE_HEADERS, "HX-Redirect": url})
    return Response(status_code=303, headers={**PAGE_HEADERS, "Location": url})


class PageRouter(APIRouter):
    """A front end's pages: never a match for a path under ``never`` (the API's ``/v1/`` by
    default) nor, when ``under`` is given, for a path outside ``under`` (``under`` itself
    and ``under/...``).

    FastAPI 0.165 keeps an included router as one route of its parent and asks the
    router's ``matches`` before walking its routes, so this test is the whole cost of a
    front end for a request it does not serve.
    """

    def __init__(self, *, under: str | None = None, never: tuple[str, ...] = (API_PREFIX,)) -> None:
        super().__init__()
        self.under = under
        self.never = never

    def serves(self, path: str) -> bool:
        """Whether a route of this front end may match ``path`` at all."""
        if path.startswith(self.never):
            return False
        under = self.under
        return under is None or path == under or path.startswith(under + "/")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if not self.serves(path):
            return Match.NONE, {}
        return super().matches(scope)


def front_end(
    router: APIRouter, *, under: str | None = None, never: tuple[str, ...] = (API_PREFIX,)
) -> PageRouter:
    """``router``'s pages in a :class:`PageRouter` (include the result in the app)."""
    pages = PageRouter(under=under, never=never)
    pages.include_router(router)
    return pages
