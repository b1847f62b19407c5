"""The route class of every portal page: the kit's
:class:`~ewallet.web.kit.cookie_sessions.SessionRoute` with the portal's places (sign-in,
lock, authenticator enrolment, password) and its refusal page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from ewallet.http.deps import app_services
from ewallet.web.kit.cookie_sessions import SessionRoute
from ewallet.web.kit.routing import redirect
from ewallet.web.merchant.auth import (
    HOME,
    LOCK_PATH,
    PASSWORD_PATH,
    TOTP_PATH,
    PasswordChangeRequired,
    TotpEnrolmentRequired,
)
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.session import COOKIES


class MerchantRoute(SessionRoute):
    cookies = COOKIES
    home = HOME
    lock_path = LOCK_PATH
    principal_state = "portal_user"
    active_state = "portal_active"

    async def refused(
        self, request: Request, *, status_code: int, reason: str, error: str | None = None
    ) -> Response:
        return await merchant_page(
            request,
            app_services(request.app),
            "merchant/refused.html",
            status_code=status_code,
            reason=reason,
            error=error,
        )

    async def caught(self, request: Request, error: Exception) -> Response | None:
        if isinstance(error, TotpEnrolmentRequired):
            return redirect(request, TOTP_PATH)
        if isinstance(error, PasswordChangeRequired):
            return redirect(request, PASSWORD_PATH)
        return await super().caught(request, error)
