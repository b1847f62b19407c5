"""The route class of every page: what a page handler does not catch becomes a page.

- no signed-in user (``WebUser``): ``303`` to the sign-in page, which comes back after;
- a form without this browser's token (``PostedForm``): ``403`` page, nothing changed;
- a service refusal the handler let through (``DomainError``: another user's id is
  ``not_found``, a frozen account, ...): a page with the refusal in the reader's language and
  the error's status -- never the problem JSON of the API, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from ewallet.http.deps import app_services
from ewallet.kit.errors import DomainError
from ewallet.web.kit.auth import SignInRequired, sign_in_url
from ewallet.web.kit.forms import CsrfRefused
from ewallet.web.kit.pages import PAGE_HEADERS, page, refusal

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class WebRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Pages answer HTML: declared, so that the maintenance guard refuses a form's post
        # with a page in the reader's language rather than a problem document.
        kwargs["response_class"] = HTMLResponse
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired as needed:
                if request.headers.get("hx-request") == "true":
                    url = sign_in_url(needed.next_path)
                    return Response(status_code=204, headers={**PAGE_HEADERS, "HX-Redirect": url})
                return Response(
                    status_code=303,
                    headers={**PAGE_HEADERS, "Location": sign_in_url(needed.next_path)},
                )
            except CsrfRefused:
                return await page(
                    request,
                    app_services(request.app),
                    "wallet/refused.html",
                    status_code=403,
                    reason="csrf",
                )
            except DomainError as error:
                return await page(
                    request,
                    app_services(request.app),
                    "wallet/refused.html",
                    status_code=error.status,
                    reason=error.code,
                    error=refusal(request, error),
                )

        return answer
