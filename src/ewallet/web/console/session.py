"""The console's cookies: the staff session and the last time the browser was used.

The session cookie names a row of the staff sessions table the staff API's tokens use
(``<session id>.<keyed digest>``), so signing out, disabling a staff member or a role change
ends the console at once. It is scoped to ``/console`` (the wallet never sees it, and a
customer's wallet cookie never reaches the console), HttpOnly, SameSite=Lax, and outside
development ``Secure`` with the ``__Secure-`` prefix (``__Host-`` would need path ``/``). It
lives no longer than the session row (8 hours from sign-in).

The activity cookie holds when this browser last did something (a page or a form, not a
background poll), sealed with the session id so it cannot be moved to another session or
written by hand; older than ``staff_idle_minutes`` means the console is locked until the
password is given again (:mod:`ewallet.web.console.shell`).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Final

from fastapi import Request, Response

from ewallet.config import Environment
from ewallet.services import Services

SESSION_COOKIE: Final = "ewallet_staff"
ACTIVITY_COOKIE: Final = "ewallet_staff_seen"
COOKIE_PATH: Final = "/console"


def _secure(services: Services) -> bool:
    return services.settings.env is not Environment.DEVELOPMENT


def _name(services: Services, base: str) -> str:
    return f"__Secure-{base}" if _secure(services) else base


def _seal(services: Services, value: str) -> str:
    return services.security.digest(f"console-session:{value}")[:40]


def _read(request: Request, services: Services, base: str) -> str | None:
    """The cookie's value if its seal is ours, else None."""
    raw = request.cookies.get(_name(services, base), "")
    value, _, seal = raw.rpartition(".")
    if not value or not secrets.compare_digest(seal, _seal(services, f"{base}:{value}")):
        return None
    return value


def _write(response: Response, services: Services, base: str, value: str, *, max_age: int) -> None:
    response.set_cookie(
        _name(services, base),
        f"{value}.{_seal(services, f'{base}:{value}')}",
        max_age=max(max_age, 0),
        httponly=True,
        samesite="lax",
        secure=_secure(services),
        path=COOKIE_PATH,
    )


def session_id_from(request: Request, services: Services) -> str | None:
    return _read(request, services, SESSION_COOKIE)


def set_session(
    response: Response, services: Services, session_id: str, *, expires_at: datetime
) -> None:
    lifetime = int((expires_at - services.clock.now()).total_seconds())
    _write(response, services, SESSION_COOKIE, session_id, max_age=lifetime)


def last_active(request: Request, services: Services, session_id: str) -> int | None:
    """When this browser last used the console in ``session_id`` (epoch seconds), or None."""
    value = _read(request, services, ACTIVITY_COOKIE)
    if value is None:
        return None
    owner, _, moment = value.partition(":")
    if owner != session_id or not moment.isdigit():
        return None
    return int(moment)


def mark_active(response: Response, services: Services, session_id: str) -> None:
    now = int(services.clock.now().timestamp())
    lifetime = services.settings.staff_session_hours * 3600
    _write(response, services, ACTIVITY_COOKIE, f"{session_id}:{now}", max_age=lifetime)


def clear(response: Response, services: Services) -> None:
    for base in (SESSION_COOKIE, ACTIVITY_COOKIE):
        response.delete_cookie(
            _name(services, base),
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=_secure(services),
        )
