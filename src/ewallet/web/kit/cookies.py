"""The wallet's cookies: the session, the browser's device key, the language.

The session cookie names a row of the sessions table the API's tokens use
(``<session id>.<keyed digest of it>``), so signing out, the device list, freezing and
"sign out everywhere" act on a browser exactly as on an app. HttpOnly and SameSite=Lax
always; outside development also ``Secure`` with the ``__Host-`` prefix (no Domain, path
``/``). The device cookie is this browser's device key: a browser that passed the SMS
step-up once is a known device next time, as an app is.
"""

from __future__ import annotations

import secrets
from typing import Final

from fastapi import Request, Response

from ewallet.config import Environment
from ewallet.services import Services

SESSION_COOKIE: Final = "ewallet_session"
DEVICE_COOKIE: Final = "ewallet_device"
DEVICE_KEY_PREFIX: Final = "web_"
YEAR: Final = 365 * 24 * 3600


def _secure(services: Services) -> bool:
    return services.settings.env is not Environment.DEVELOPMENT


def cookie_name(services: Services, base: str) -> str:
    """``__Host-`` prefixed outside development (the browser then insists on Secure, path
    ``/`` and no Domain)."""
    return f"__Host-{base}" if _secure(services) else base


def _seal(services: Services, session_id: str) -> str:
    return services.security.digest(f"web-session:{session_id}")[:40]


def session_id_from(request: Request, services: Services) -> str | None:
    """The session the cookie names, if its seal is ours; None otherwise."""
    value = request.cookies.get(cookie_name(services, SESSION_COOKIE), "")
    session_id, _, seal = value.rpartition(".")
    if not session_id or not secrets.compare_digest(seal, _seal(services, session_id)):
        return None
    return session_id


def set_session(response: Response, services: Services, session_id: str) -> None:
    """A browser session cookie (no Max-Age: the session row's expiry is what counts)."""
    response.set_cookie(
        cookie_name(services, SESSION_COOKIE),
        f"{session_id}.{_seal(services, session_id)}",
        httponly=True,
        samesite="lax",
        secure=_secure(services),
        path="/",
    )


def clear_session(response: Response, services: Services) -> None:
    response.delete_cookie(
        cookie_name(services, SESSION_COOKIE),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(services),
    )


def device_key_from(request: Request, services: Services) -> str | None:
    key = request.cookies.get(cookie_name(services, DEVICE_COOKIE), "")
    if key.startswith(DEVICE_KEY_PREFIX) and 20 <= len(key) <= 64:
        return key
    return None


def new_device_key() -> str:
    return DEVICE_KEY_PREFIX + secrets.token_urlsafe(24)


def set_device(response: Response, services: Services, key: str) -> None:
    response.set_cookie(
        cookie_name(services, DEVICE_COOKIE),
        key,
        max_age=YEAR,
        httponly=True,
        samesite="lax",
        secure=_secure(services),
        path="/",
    )


def set_language(response: Response, services: Services, locale: str) -> None:
    response.set_cookie(
        "lang", locale, max_age=YEAR, samesite="lax", secure=_secure(services), path="/"
    )
