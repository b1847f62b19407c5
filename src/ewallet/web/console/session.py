"""The console's cookies: the staff session and the last time the browser was used.

The session cookie names a row of the staff sessions table the staff API's tokens use, so
signing out, disabling a staff member or a role change ends the console at once. It is
scoped to ``/console`` and lives no longer than the session row (8 hours from sign-in).
The sealed activity cookie says when this browser last did something; older than
``staff_idle_minutes`` means the console is locked until the password is given again
(:mod:`ewallet.web.console.shell`). Both are the kit's
:class:`~ewallet.web.kit.cookie_sessions.SessionCookies`, shared with the merchant portal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from fastapi import Request, Response

from ewallet.services import Services
from ewallet.web.kit.cookie_sessions import SessionCookies

SESSION_COOKIE: Final = "ewallet_staff"
ACTIVITY_COOKIE: Final = "ewallet_staff_seen"
COOKIE_PATH: Final = "/console"

COOKIES: Final = SessionCookies(
    session=SESSION_COOKIE,
    activity=ACTIVITY_COOKIE,
    path=COOKIE_PATH,
    purpose="console-session",
    hours=lambda settings: settings.staff_session_hours,
    idle_minutes=lambda settings: settings.staff_idle_minutes,
)


def session_id_from(request: Request, services: Services) -> str | None:
    return COOKIES.session_id_from(request, services)


def set_session(
    response: Response, services: Services, session_id: str, *, expires_at: datetime
) -> None:
    COOKIES.set_session(response, services, session_id, expires_at=expires_at)


def last_active(request: Request, services: Services, session_id: str) -> int | None:
    """When this browser last used the console in ``session_id`` (epoch seconds), or None."""
    return COOKIES.last_active(request, services, session_id)


def mark_active(response: Response, services: Services, session_id: str) -> None:
    COOKIES.mark_active(response, services, session_id)


def clear(response: Response, services: Services) -> None:
    COOKIES.clear(response, services)
