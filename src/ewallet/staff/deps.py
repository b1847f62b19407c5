"""Who is calling the staff API: the staff member behind a ``staff`` Bearer token.

Every ``/v1/staff`` route but sign-in depends on :data:`CurrentStaff` or on
:func:`require_roles`. The token must be a staff token (a customer's token is refused:
the token kind is signed into it), unexpired by the app's clock, and name a session that
is live and belongs to an active staff member: sign-out and disabling work at once.

``require_roles("risk_officer")`` also refuses a staff member who has not yet replaced
the one-time password (``403 password_change_required``); the few routes needed to do
that (``GET /v1/staff/me``, ``PUT /v1/staff/me/password``, refresh, sign-out) use
:data:`CurrentStaff` alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from ewallet.http.deps import ClockDep, EngineDep
from ewallet.identity.deps import SecurityDep, bearer_token
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ForbiddenError, UnauthorizedError
from ewallet.staff import repository as repo
from ewallet.staff.errors import PasswordChangeRequiredError
from ewallet.staff.principal import StaffPrincipal, checked_roles


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


async def current_staff(
    request: Request, engine: EngineDep, security: SecurityDep, clock: ClockDep
) -> StaffPrincipal:
    token = bearer_token(request)
    if token is None:
        raise UnauthorizedError("sign in first: no bearer token")
    now = clock.now()
    claims = security.tokens.verify(token, kind="staff", now=now)

    async def load(uow: UnitOfWork) -> Any:
        return await repo.session_with_staff(await uow.connection(), claims.session_id)

    row = await run_unit(engine, load, read_only=True)
    if row is None or row.staff_id != claims.subject:
        raise UnauthorizedError("unknown session")
    if row.revoked_at is not None or row.expires_at <= now or row.status != "active":
        raise UnauthorizedError("the session has ended; sign in again")
    principal = StaffPrincipal(
        staff_id=row.staff_id,
        session_id=claims.session_id,
        role=row.role,
        must_change_password=bool(row.must_change_password),
        session_expires_at=row.expires_at,
        ip=client_ip(request),
    )
    request.state.staff = principal
    return principal


CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]


def require_roles(*roles: str) -> Callable[..., Awaitable[StaffPrincipal]]:
    """A dependency admitting staff of ``roles`` (and admins), with their password changed."""
    allowed = checked_roles(roles)

    async def check(staff: CurrentStaff) -> StaffPrincipal:
        if staff.must_change_password:
            raise PasswordChangeRequiredError("change the one-time password first")
        if not staff.may(allowed):
            raise ForbiddenError("your staff role does not allow this")
        return staff

    check.__name__ = "require_" + "_or_".join(sorted(allowed))
    return check
