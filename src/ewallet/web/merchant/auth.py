"""Who is at the portal: the signed-in merchant user, and whether their role may see a page.

A page declares the work it does with an alias below (``user: TeamOwner``, ...), built
from :mod:`ewallet.merchants.people.permissions`. On every request the cookie's session
must be live (one indexed read), so sign-out, disabling a person or their merchant take
effect at once. Then, in order:

- no live session: ``303`` to ``/merchant/signin?next=...``;
- the browser idle longer than ``merchant_idle_minutes``: ``303`` to ``/merchant/lock``;
- an owner or manager without an authenticator yet: ``303`` to ``/merchant/totp``;
- the one-time password not yet replaced: ``303`` to ``/merchant/password``;
- the role may not do this: ``403`` page, nothing shown.

The merchant is always the signed-in person's own: no page takes a merchant id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import ForbiddenError, UnauthorizedError
from ewallet.merchants.people.permissions import (
    ANY_MEMBER,
    SALES_READING,
    TEAM,
    PortalPermission,
)
from ewallet.merchants.people.service import portal_session
from ewallet.merchants.people.views import PortalUser
from ewallet.services import Services
from ewallet.web.kit.auth import SignInRequired, local_path
from ewallet.web.kit.cookie_sessions import IdleLocked
from ewallet.web.merchant.session import COOKIES

HOME = "/merchant/"
SIGN_IN_PATH = "/merchant/signin"
LOCK_PATH = "/merchant/lock"
TOTP_PATH = "/merchant/totp"
PASSWORD_PATH = "/merchant/password"  # noqa: S105 -- a page path, not a password


class TotpEnrolmentRequired(Exception):  # noqa: N818 -- answered with a redirect
    """An owner or manager must enrol an authenticator before anything else."""


class PasswordChangeRequired(Exception):  # noqa: N818 -- answered with a redirect
    """The one-time password must be replaced before anything else."""


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


async def portal_user(request: Request, services: Services) -> PortalUser | None:
    """The merchant user behind the portal cookie (cached on the request), or None."""
    if hasattr(request.state, "portal_user"):
        cached: PortalUser | None = request.state.portal_user
        return cached
    user: PortalUser | None = None
    session_id = COOKIES.session_id_from(request, services)
    if session_id is not None:
        try:
            user = await portal_session(services, session_id=session_id, ip=client_ip(request))
        except UnauthorizedError:
            user = None
    request.state.portal_user = user
    return user


def _here(request: Request) -> str:
    return local_path(request.url.path, request.url.query)


async def signed_in_user(request: Request, services: ServicesDep) -> PortalUser:
    """A live session, whatever else holds (the lock, authenticator, password, sign-out)."""
    user = await portal_user(request, services)
    if user is None:
        raise SignInRequired(_here(request))
    return user


def is_idle(request: Request, services: Services, user: PortalUser) -> bool:
    return COOKIES.is_idle(request, services, user.session_id)


async def active_user(
    request: Request,
    services: ServicesDep,
    user: Annotated[PortalUser, Depends(signed_in_user)],
) -> PortalUser:
    """A live session, used recently, authenticator enrolled, own password chosen."""
    if is_idle(request, services, user):
        raise IdleLocked(_here(request))
    if user.must_enrol_totp:
        raise TotpEnrolmentRequired
    if user.must_change_password:
        raise PasswordChangeRequired
    request.state.portal_active = True  # the answer renews the activity cookie
    return user


def allowed(permission: PortalPermission) -> Callable[..., Awaitable[PortalUser]]:
    """A dependency admitting an active merchant user whose role ``permission`` allows."""

    async def check(user: Annotated[PortalUser, Depends(active_user)]) -> PortalUser:
        if not permission.allows(user.role):
            raise ForbiddenError("your role does not allow this")
        return user

    check.__name__ = f"portal_{permission.name}"
    return check


SignedInUser = Annotated[PortalUser, Depends(signed_in_user)]
AnyMember = Annotated[PortalUser, Depends(allowed(ANY_MEMBER))]
SalesReader = Annotated[PortalUser, Depends(allowed(SALES_READING))]
TeamOwner = Annotated[PortalUser, Depends(allowed(TEAM))]
