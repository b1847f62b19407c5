"""Who is at the console: the signed-in staff member, and whether their role may see a page.

A page declares the work it does with one of the aliases below (``staff: Supporter``, ...),
each built from :mod:`ewallet.staff.permissions`, the table the ``/v1/staff`` API checks too.
On every request the cookie's session must be live (one indexed read), so sign-out,
disabling a staff member or a role change take effect at once. Then, in order:

- no live session: ``303`` to ``/console/signin?next=...`` (``SignInRequired``);
- the browser idle longer than ``staff_idle_minutes``: ``303`` to ``/console/lock``
  (``IdleLocked``); the session lives on, the password unlocks it;
- the one-time password not yet replaced: ``303`` to ``/console/password``;
- the role may not do this: ``403`` page (``forbidden``), nothing shown.

Audit: ``staff.actor()`` is the actor of every use case a page runs, with the browser's
address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from ewallet.http.deps import ServicesDep, app_services
from ewallet.kit.errors import ForbiddenError, UnauthorizedError
from ewallet.services import Services
from ewallet.staff.errors import PasswordChangeRequiredError
from ewallet.staff.permissions import (
    ACCOUNT_GUARD,
    ADMINISTRATION,
    ANY_STAFF,
    AUDIT,
    CASH_APPROVAL,
    CASH_HANDLING,
    CASH_READING,
    CASH_REPORTING,
    OPERATIONS,
    RECONCILIATION_READING,
    SUPPORT,
    Permission,
)
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service.sessions import staff_session
from ewallet.web.console.session import COOKIES, session_id_from
from ewallet.web.kit.auth import SignInRequired, local_path
from ewallet.web.kit.cookie_sessions import IdleLocked

SIGN_IN_PATH = "/console/signin"
LOCK_PATH = "/console/lock"
PASSWORD_PATH = "/console/password"  # noqa: S105 -- a page path, not a password


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


async def console_staff(request: Request, services: Services) -> StaffPrincipal | None:
    """The staff member behind the console cookie (cached on the request), or None."""
    if hasattr(request.state, "console_staff"):
        cached: StaffPrincipal | None = request.state.console_staff
        return cached
    principal: StaffPrincipal | None = None
    session_id = session_id_from(request, services)
    if session_id is not None:
        try:
            principal = await staff_session(services, session_id=session_id, ip=client_ip(request))
        except UnauthorizedError:
            principal = None
    request.state.console_staff = principal
    if principal is not None:
        request.state.staff = principal  # for the request log, as the staff API does
    return principal


def _here(request: Request) -> str:
    return local_path(request.url.path, request.url.query)


async def signed_in_staff(request: Request, services: ServicesDep) -> StaffPrincipal:
    """A live session, whatever else holds (the lock, password and sign-out pages)."""
    return await _signed_in(request, services)


async def _signed_in(request: Request, services: Services) -> StaffPrincipal:
    principal = await console_staff(request, services)
    if principal is None:
        raise SignInRequired(_here(request))
    return principal


def is_idle(request: Request, services: Services, principal: StaffPrincipal) -> bool:
    return COOKIES.is_idle(request, services, principal.session_id)


async def active_staff(
    request: Request,
    services: ServicesDep,
    principal: Annotated[StaffPrincipal, Depends(signed_in_staff)],
) -> StaffPrincipal:
    """A live session, used recently, with the one-time password replaced."""
    return _active(request, services, principal)


def _active(request: Request, services: Services, principal: StaffPrincipal) -> StaffPrincipal:
    if is_idle(request, services, principal):
        raise IdleLocked(_here(request))
    if principal.must_change_password:
        raise PasswordChangeRequiredError("change the one-time password first")
    request.state.console_active = True  # the answer renews the activity cookie
    return principal


def allowed(permission: Permission) -> Callable[..., Awaitable[StaffPrincipal]]:
    """A dependency admitting an active staff member whose role ``permission`` allows.

    It does what :func:`active_staff` (and so :func:`signed_in_staff`) does by calling
    them as functions, not as sub-dependencies: FastAPI 0.165 works out every
    dependency's cache key and scope again on each request, walking its sub-dependencies
    each time, and a page's tree held seven of them (this check, the two above and the
    services each asked for), now this check alone (docs/performance.md)."""

    async def check(request: Request) -> StaffPrincipal:
        services = app_services(request.app)
        staff = _active(request, services, await _signed_in(request, services))
        if not permission.allows(staff.role):
            raise ForbiddenError("your staff role does not allow this")
        return staff

    check.__name__ = f"console_{permission.name}"
    return check


SignedInStaff = Annotated[StaffPrincipal, Depends(signed_in_staff)]
AnyStaff = Annotated[StaffPrincipal, Depends(allowed(ANY_STAFF))]
Supporter = Annotated[StaffPrincipal, Depends(allowed(SUPPORT))]
Guard = Annotated[StaffPrincipal, Depends(allowed(ACCOUNT_GUARD))]
Cashier = Annotated[StaffPrincipal, Depends(allowed(CASH_HANDLING))]
CashSupervisor = Annotated[StaffPrincipal, Depends(allowed(CASH_APPROVAL))]
CashReader = Annotated[StaffPrincipal, Depends(allowed(CASH_READING))]
CashReporter = Annotated[StaffPrincipal, Depends(allowed(CASH_REPORTING))]
Operator = Annotated[StaffPrincipal, Depends(allowed(OPERATIONS))]
ReconReader = Annotated[StaffPrincipal, Depends(allowed(RECONCILIATION_READING))]
Auditor = Annotated[StaffPrincipal, Depends(allowed(AUDIT))]
Admin = Annotated[StaffPrincipal, Depends(allowed(ADMINISTRATION))]
