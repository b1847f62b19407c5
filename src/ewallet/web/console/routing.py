"""The route class of every console page (``ConsoleRoute``): what a handler does not catch.

The kit's :class:`~ewallet.web.kit.cookie_sessions.SessionRoute` with the console's places:
no session → ``/console/signin``; an idle browser → ``/console/lock``; the one-time password
not replaced → ``/console/password``; a refused role, a missing CSRF token or a service's
refusal → the console's refusal page with the status. Every answer to something the staff
member did (a page, a form; not a background htmx poll) renews the activity cookie that
keeps the screen unlocked.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from ewallet.http.deps import app_services
from ewallet.staff.errors import PasswordChangeRequiredError
from ewallet.web.console.auth import LOCK_PATH, PASSWORD_PATH
from ewallet.web.console.pages import console_page
from ewallet.web.console.session import COOKIES
from ewallet.web.kit.cookie_sessions import SessionRoute
from ewallet.web.kit.routing import redirect


class ConsoleRoute(SessionRoute):
    cookies = COOKIES
    home = "/console/"
    lock_path = LOCK_PATH
    principal_state = "console_staff"
    active_state = "console_active"

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
        if isinstance(error, PasswordChangeRequiredError):
            return redirect(request, PASSWORD_PATH)
        return await super().caught(request, error)
