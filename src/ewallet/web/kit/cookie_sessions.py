"""Cookie sessions of the signed-in front ends with an idle lock (the staff console, the
merchant portal): the session cookie, the sealed activity cookie, and the route class that
answers an idle browser with the lock screen and renews the activity on every answer.

:class:`SessionCookies` is one front end's pair of cookies. The session cookie names a row
of that front end's sessions table (``<session id>.<keyed digest>``); it is scoped to the
front end's path (the wallet never sees it, nor the other front end), HttpOnly,
SameSite=Lax, and outside development ``Secure`` with the ``__Secure-`` prefix
(``__Host-`` would need path ``/``). The activity cookie holds when this browser last did
something (a page or a form, not a background poll), sealed with the session id so it
cannot be moved to another session or written by hand; older than the front end's idle
minutes means the screen is locked until the password is given again.

:class:`SessionRoute` is a :class:`~ewallet.web.kit.routing.WebRoute` that answers
:class:`IdleLocked` with a redirect to the lock page and renews the activity cookie when
the request was the person's own doing (the page's dependency marks it so by setting
``request.state.<active_flag>``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from fastapi import Request, Response

from ewallet.config import Environment, Settings
from ewallet.http.deps import app_services
from ewallet.services import Services
from ewallet.web.kit.routing import Handler, WebRoute, redirect


@dataclass(frozen=True, slots=True)
class SessionCookies:
    session: str  # the session cookie's base name
    activity: str  # the activity cookie's base name
    path: str
    purpose: str  # what the seals are keyed with
    hours: Callable[[Settings], int]  # how long a session lives
    idle_minutes: Callable[[Settings], int]

    @staticmethod
    def secure(services: Services) -> bool:
        return services.settings.env is not Environment.DEVELOPMENT

    def name(self, services: Services, base: str) -> str:
        return f"__Secure-{base}" if self.secure(services) else base

    def _seal(self, services: Services, value: str) -> str:
        return services.security.digest(f"{self.purpose}:{value}")[:40]

    def _read(self, request: Request, services: Services, base: str) -> str | None:
        """The cookie's value if its seal is ours, else None."""
        raw = request.cookies.get(self.name(services, base), "")
        value, _, seal = raw.rpartition(".")
        if not value or not secrets.compare_digest(seal, self._seal(services, f"{base}:{value}")):
            return None
        return value

    def _write(
        self, response: Response, services: Services, base: str, value: str, *, max_age: int
    ) -> None:
        response.set_cookie(
            self.name(services, base),
            f"{value}.{self._seal(services, f'{base}:{value}')}",
            max_age=max(max_age, 0),
            httponly=True,
            samesite="lax",
            secure=self.secure(services),
            path=self.path,
        )

    def session_id_from(self, request: Request, services: Services) -> str | None:
        return self._read(request, services, self.session)

    def set_session(
        self, response: Response, services: Services, session_id: str, *, expires_at: datetime
    ) -> None:
        lifetime = int((expires_at - services.clock.now()).total_seconds())
        self._write(response, services, self.session, session_id, max_age=lifetime)

    def last_active(self, request: Request, services: Services, session_id: str) -> int | None:
        """When this browser last acted in ``session_id`` (epoch seconds), or None."""
        value = self._read(request, services, self.activity)
        if value is None:
            return None
        owner, _, moment = value.partition(":")
        if owner != session_id or not moment.isdigit():
            return None
        return int(moment)

    def is_idle(self, request: Request, services: Services, session_id: str) -> bool:
        seen = self.last_active(request, services, session_id)
        now = services.clock.now().timestamp()
        return seen is None or now - seen > self.idle_minutes(services.settings) * 60

    def mark_active(self, response: Response, services: Services, session_id: str) -> None:
        now = int(services.clock.now().timestamp())
        lifetime = self.hours(services.settings) * 3600
        self._write(response, services, self.activity, f"{session_id}:{now}", max_age=lifetime)

    def clear(self, response: Response, services: Services) -> None:
        for base in (self.session, self.activity):
            response.delete_cookie(
                self.name(services, base),
                path=self.path,
                httponly=True,
                samesite="lax",
                secure=self.secure(services),
            )


class IdleLocked(Exception):  # noqa: N818 -- a control-flow signal, answered with a redirect
    """The browser was left idle too long: the lock screen, then back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def with_next(path: str, next_path: str, *, home: str) -> str:
    """``path?next=...`` unless ``next_path`` is the front end's home."""
    if next_path in ("", "/", home, home.rstrip("/")):
        return path
    return f"{path}?next={quote(next_path, safe='')}"


class SessionRoute(WebRoute):
    """A front end with cookie sessions and an idle lock. Subclasses set the class
    attributes and say where sign-in is and how refusals look."""

    cookies: SessionCookies
    home: str
    lock_path: str
    principal_state: str  # request.state attribute holding the signed-in principal
    active_state: str  # request.state flag: the request was the person's own doing

    def sign_in_url(self, next_path: str) -> str:
        return with_next(self.cookies.path + "/signin", next_path, home=self.home)

    async def caught(self, request: Request, error: Exception) -> Response | None:
        if isinstance(error, IdleLocked):
            return redirect(request, with_next(self.lock_path, error.next_path, home=self.home))
        return None

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            response = await handle(request)
            background = request.method == "GET" and request.headers.get("hx-request") == "true"
            principal = getattr(request.state, self.principal_state, None)
            active = getattr(request.state, self.active_state, False)
            if principal is not None and active and not background:
                services = app_services(request.app)
                self.cookies.mark_active(response, services, principal.session_id)
            return response

        return answer
