"""Who is using the wallet in this browser: the signed-in user, or a redirect to sign in.

A page that needs a user declares ``user: WebUser``. The cookie's session must still be
live on every request (one indexed read), so signing out here, on the app, or by staff
freezing the account ends the browser at once. Without a user the browser is sent to the
sign-in page, which brings it back to where it was going (a local path only).

A page that shows what one service reads (home, the history) checks the session in the
same read-only transaction as that read instead: :func:`read_as_user` (or
:func:`read_if_signed_in` where signed-out readers get another page) with the service's
in-unit reader, e.g. ``wallet.home_summary_in``. Same row, same rule, same redirect; one
transaction per page instead of two.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import Principal
from ewallet.identity.sessions import service as sessions
from ewallet.kit.errors import UnauthorizedError
from ewallet.services import Services
from ewallet.web.kit.cookies import session_id_from

SIGN_IN_PATH = "/signin"


class SignInRequired(Exception):  # noqa: N818 -- a control-flow signal, not an error
    """Raised by ``WebUser`` without a live session; answered with a redirect to sign in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


T = TypeVar("T")


async def web_principal(request: Request, services: Services) -> Principal | None:
    """The user behind the session cookie (cached on the request), or None."""
    if hasattr(request.state, "web_principal"):
        cached: Principal | None = request.state.web_principal
        return cached
    principal: Principal | None = None
    session_id = session_id_from(request, services)
    if session_id is not None:
        try:
            row = await sessions.live_session(services, session_id=session_id)
        except UnauthorizedError:
            principal = None
        else:
            principal = Principal(row.user_id, session_id, device_id=row.device_id)
    return _remember(request, principal)


def _remember(request: Request, principal: Principal | None) -> Principal | None:
    request.state.web_principal = principal
    if principal is not None:
        request.state.principal = principal  # for idempotency scoping and logs
    return principal


async def require_user(request: Request, services: ServicesDep) -> Principal:
    principal = await web_principal(request, services)
    if principal is None:
        raise SignInRequired(_here(request))
    return principal


def _here(request: Request) -> str:
    return local_path(request.url.path, request.url.query)


async def read_if_signed_in(
    request: Request, services: Services, read: sessions.SessionRead[T]
) -> tuple[Principal, T] | None:
    """The signed-in user and what ``read`` (a service's in-unit reader) reads for them,
    the session checked in the same read-only transaction; None, with nothing read,
    without a live session. The user is then cached like :func:`web_principal`'s."""
    if getattr(request.state, "web_principal", False) is None:
        return None  # already found signed out in this request
    session_id = session_id_from(request, services)
    found = None
    if session_id is not None:
        found = await sessions.read_in_session(services, session_id=session_id, read=read)
    if session_id is None or found is None:
        _remember(request, None)
        return None
    user_id, value = found
    principal = Principal(user_id=user_id, session_id=session_id)
    _remember(request, principal)
    return principal, value


async def read_as_user(
    request: Request, services: Services, read: sessions.SessionRead[T]
) -> tuple[Principal, T]:
    """:func:`read_if_signed_in` for a page that needs a user: without one the browser
    is sent to sign in (as ``WebUser`` does) and nothing is read."""
    found = await read_if_signed_in(request, services, read)
    if found is None:
        raise SignInRequired(_here(request))
    return found


WebUser = Annotated[Principal, Depends(require_user)]


def actor_of(request: Request, user: Principal) -> Actor:
    """The signed-in user as the actor of an audited use case, with the browser's address."""
    return Actor("user", user.user_id, request.client.host if request.client else None)


def local_path(path: str, query: str = "") -> str:
    """``path?query`` if it is a path on this site; ``/`` for anything else (an open
    redirect through ``next`` is refused)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return f"{path}?{query}" if query else path


def sign_in_url(next_path: str) -> str:
    if next_path in ("", "/"):
        return SIGN_IN_PATH
    return f"{SIGN_IN_PATH}?next={quote(next_path, safe='')}"
