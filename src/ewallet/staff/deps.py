"""Who is calling the staff API: the staff member behind a ``staff`` Bearer token.

Every ``/v1/staff`` route but sign-in depends on :data:`CurrentStaff` or on
:func:`require_roles`. The checks themselves (a staff token, unexpired by the app's clock,
naming a live session of an active staff member: sign-out and disabling work at once) are
:func:`ewallet.staff.service.sessions.authenticate_staff`, shared with the chat socket;
this module only finds the token in the ``Authorization`` header.

``require_roles("risk_officer")`` also refuses a staff member who has not yet replaced
the one-time password (``403 password_change_required``); the few routes needed to do
that (``GET /v1/staff/me``, ``PUT /v1/staff/me/password``, refresh, sign-out) use
:data:`CurrentStaff` alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import bearer_token
from ewallet.kit.errors import ForbiddenError, UnauthorizedError
from ewallet.staff.errors import PasswordChangeRequiredError
from ewallet.staff.permissions import Permission, permission
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service.sessions import authenticate_staff


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


async def current_staff(request: Request, services: ServicesDep) -> StaffPrincipal:
    """The signed-in staff member (``401 unauthorized`` without a valid staff token)."""
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("sign in first: no bearer token")
    principal = await authenticate_staff(services, token=token, ip=client_ip(request))
    request.state.staff = principal
    return principal


CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]


def require_permission(allowed: Permission) -> Callable[..., Awaitable[StaffPrincipal]]:
    """A dependency admitting staff whose role ``allowed`` lets in (admins pass unless the
    permission says otherwise), with their one-time password already replaced."""

    async def check(staff: CurrentStaff) -> StaffPrincipal:
        if staff.must_change_password:
            raise PasswordChangeRequiredError("change the one-time password first")
        if not allowed.allows(staff.role):
            raise ForbiddenError("your staff role does not allow this")
        return staff

    check.__name__ = f"require_{allowed.name}"
    return check


def require_roles(*roles: str) -> Callable[..., Awaitable[StaffPrincipal]]:
    """:func:`require_permission` for a one-off set of ``roles`` (admins pass)."""
    return require_permission(permission("_or_".join(sorted(roles)), *roles))
