"""The route class of every console page (``ConsoleRoute``): what a handler does not catch.

As the wallet's :class:`~ewallet.web.kit.routing.WebRoute`, with the console's places:
no session → ``/console/signin``; an idle browser → ``/console/lock``; the one-time password
not replaced → ``/console/password``; a refused role, a missing CSRF token or a service's
refusal → the console's refusal page with the status. Every answer to something the staff
member did (a page, a form; not a background htmx poll) renews the activity cookie that
keeps the screen unlocked.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from ewallet.http.deps import app_services
from ewallet.staff.errors import PasswordChangeRequiredError
from ewallet.web.console.auth import LOCK_PATH, PASSWORD_PATH, SIGN_IN_PATH, IdleLocked
from ewallet.web.console.pages import console_page
from ewallet.web.console.session import mark_active
from ewallet.web.kit.routing import Handler, WebRoute, redirect


def with_next(path: str, next_path: str) -> str:
    if next_path in ("", "/", "/console", "/console/"):
        return path
    return f"{path}?next={quote(next_path, safe='')}"


class ConsoleRoute(WebRoute):
    def sign_in_url(self, next_path: str) -> str:
        return with_next(SIGN_IN_PATH, next_path)

    async def refused(
        self, request: Request, *, status_code: int, reason: str, error: str | None = None
    ) -> Response:
        return await console_page(
            request,
            app_services(request.app),
            "console/refused.html",
            status_code=status_code,
            reason=reason,
            error=error,
        )

    async def caught(self, request: Request, error: Exception) -> Response | None:
        if isinstance(error, IdleLocked):
            return redirect(request, with_next(LOCK_PATH, error.next_path))
        if isinstance(error, PasswordChangeRequiredError):
            return redirect(request, PASSWORD_PATH)
        return None

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            response = await handle(request)
            background = request.method == "GET" and request.headers.get("hx-request") == "true"
            staff = getattr(request.state, "console_staff", None)
            active = getattr(request.state, "console_active", False)
            if staff is not None and active and not background:
                mark_active(response, app_services(request.app), staff.session_id)
            return response

        return answer
