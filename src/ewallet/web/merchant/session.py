"""The portal's cookies: ``ewallet_merchant`` names a row of ``merchant_user_sessions``;
``ewallet_merchant_seen`` is the sealed last-activity cookie behind the idle lock. Both are
scoped to ``/merchant`` (the wallet and the console never see them), HttpOnly,
SameSite=Lax, and ``__Secure-`` prefixed outside development (the kit's
:class:`~ewallet.web.kit.cookie_sessions.SessionCookies`)."""

from __future__ import annotations

from typing import Final

from ewallet.web.kit.cookie_sessions import SessionCookies

COOKIES: Final = SessionCookies(
    session="ewallet_merchant",
    activity="ewallet_merchant_seen",
    path="/merchant",
    purpose="merchant-session",
    hours=lambda settings: settings.merchant_session_hours,
    idle_minutes=lambda settings: settings.merchant_idle_minutes,
)
