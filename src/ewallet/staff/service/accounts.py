"""Staff accounts: creation (CLI and admins), password change, roles, disabling, listing.

A new staff member gets a random one-time password and a TOTP secret, both shown once;
TOTP is mandatory, so the secret is created with the account and there is no way to sign
in without it. ``must_change_password`` stays set until the staff member chooses their
own password (``PUT /v1/staff/me/password``); until then only that, ``GET /v1/staff/me``
and sign-out are allowed. Every change is audit-logged in the same transaction.

Admins cannot change their own role or disable themselves, and the last active admin
keeps the role: some admin always remains to administer staff.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pyotp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.identity.errors import InvalidCredentialsError, WeakPasswordError
from ewallet.identity.password_policy import login_password_problems
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import (
    ConflictError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailedError,
)
from ewallet.kit.ids import new_id
from ewallet.models.operations import STAFF_ROLES, StaffRole, StaffStatus
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.errors import LastAdminError, StaffEmailTakenError
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service.credentials import count_attempt
from ewallet.staff.service.sessions import normalize_email, totp_context
from ewallet.staff.views import NewStaff, StaffMember, StaffOverview, StaffView

TOTP_ISSUER = "ewallet staff"
# Staff accounts reach every customer: a longer minimum than the customers' 8 characters.
STAFF_PASSWORD_MIN_LENGTH = 12
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_TAKEN = "a staff member with this email exists"


def valid_email(email: str) -> str:
    email = normalize_email(email)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValidationFailedError("not an email address")
    return email


async def create_staff(
    services: Services,
    actor: Actor,
    *,
    email: str,
    role: str,
    display_name: str | None = None,
) -> NewStaff:
    """A new active staff member with a one-time password and a fresh TOTP secret
    (``staff.created`` audited under ``actor``: an admin, or the CLI as ``system``).

    Refusals in order: ``422 validation_error`` (not an email address, unknown role);
    ``409 staff_email_taken`` (also when a concurrent creation with the same email won).
    """
    email = valid_email(email)
    if role not in STAFF_ROLES:
        raise ValidationFailedError(f"unknown role; one of {', '.join(STAFF_ROLES)}")
    security, clock = services.security, services.clock
    password = secrets.token_urlsafe(18)
    totp_secret = pyotp.random_base32()
    password_hash = await security.passwords.hash(password)
    staff_id = new_id("stf")

    async def work(uow: UnitOfWork) -> StaffView:
        conn = await uow.connection()
        if await repo.staff_by_email(conn, email) is not None:
            raise StaffEmailTakenError(_TAKEN)
        await repo.insert_staff(
            conn,
            id=staff_id,
            email=email,
            role=role,
            display_name=display_name,
            password_hash=password_hash,
            must_change_password=True,
            totp_secret_encrypted=security.cipher.encrypt(
                totp_secret, context=totp_context(staff_id)
            ),
            status=StaffStatus.ACTIVE,
            failures=0,
            created_at=clock.now(),
        )
        await record_event(
            conn,
            clock=clock,
            actor=actor,
            action="staff.created",
            subject_type="staff",
            subject_id=staff_id,
            details={"role": role},
        )
        return await _view(conn, staff_id)

    try:
        view = await run_unit(services.engine, work)
    except IntegrityError:  # a concurrent creation with the same email won the race
        raise StaffEmailTakenError(_TAKEN) from None
    uri = pyotp.TOTP(totp_secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)
    return NewStaff(view, password, totp_secret, uri)


async def _view(conn: AsyncConnection, staff_id: str) -> StaffView:
    row = await repo.staff_by_id(conn, staff_id)
    if row is None:
        raise NotFoundError("no such staff member")
    return row.view()


async def get_staff(services: Services, principal: StaffPrincipal) -> StaffView:
    """The signed-in staff member's own account (``404 not_found`` cannot happen for a live
    session: staff rows are disabled, never deleted)."""

    async def work(uow: UnitOfWork) -> StaffView:
        return await _view(await uow.connection(), principal.staff_id)

    return await run_unit(services.engine, work, read_only=True)


async def list_all_staff(services: Services) -> list[StaffView]:
    """Every staff member, oldest first (the caller's admin role is the endpoint's check)."""

    async def work(uow: UnitOfWork) -> list[StaffView]:
        return [row.view() for row in await repo.list_staff(await uow.connection())]

    return await run_unit(services.engine, work, read_only=True)


# Open resets listed with the staff (a handful at most: one per staff member, for a day).
OPEN_RESETS_SHOWN = 100


async def staff_overview(services: Services) -> StaffOverview:
    """Every staff member (oldest first) and the resets waiting for a second admin, in one
    read (the caller's admin role is the page's check)."""

    async def work(uow: UnitOfWork) -> StaffOverview:
        conn = await uow.connection()
        members = [row.view() for row in await repo.list_staff(conn)]
        resets = await repo.totp_resets_page(
            conn,
            now=services.clock.now(),
            open_only=True,
            before_id=None,
            limit=OPEN_RESETS_SHOWN,
        )
        return StaffOverview(members, resets[:OPEN_RESETS_SHOWN])

    return await run_unit(services.engine, work, read_only=True)


async def staff_member(services: Services, *, staff_id: str) -> StaffMember:
    """One staff member and their waiting authenticator reset. ``404 not_found``."""

    async def work(uow: UnitOfWork) -> StaffMember:
        conn = await uow.connection()
        view = await _view(conn, staff_id)
        waiting = await repo.open_totp_reset_of(conn, staff_id, now=services.clock.now())
        return StaffMember(view, waiting)

    return await run_unit(services.engine, work, read_only=True)


async def _lock_for_admin_change(
    conn: AsyncConnection, principal: StaffPrincipal, staff_id: str
) -> repo.StaffRow:
    """Lock the acting admin's row and the target's (in id order) and return the target.

    Two admins changing each other at the same moment (A demotes B while B disables A)
    are settled one after the other on these locks, so the second sees the first's
    change: a caller disabled meanwhile is refused (``401 unauthorized``, as their next
    request would be), and the last-admin rule counts what is really left.
    """
    rows = await repo.lock_staff(conn, {principal.staff_id, staff_id})
    caller = rows.get(principal.staff_id)
    if caller is None or caller.status != StaffStatus.ACTIVE:
        raise UnauthorizedError("the session has ended; sign in again")
    target = rows.get(staff_id)
    if target is None:
        raise NotFoundError("no such staff member")
    return target


async def _keep_an_admin(conn: AsyncConnection, target: repo.StaffRow) -> None:
    """Refuse to take the admin role from the last active admin (``409 last_admin``)."""
    is_active_admin = target.role == StaffRole.ADMIN and target.status == StaffStatus.ACTIVE
    if is_active_admin and await repo.count_active_admins(conn, besides=target.id) == 0:
        raise LastAdminError("the last active admin cannot lose the admin role")


async def disable_staff(
    services: Services, principal: StaffPrincipal, *, staff_id: str
) -> StaffView:
    """Disable a staff member and end their sessions at once (``staff.disabled`` audited);
    disabling twice is a no-op.

    Refusals in order: ``409 conflict`` (disabling one's own account); ``401
    unauthorized`` (the caller was disabled meanwhile); ``404 not_found``; ``409
    last_admin``. Locks the caller's and the target's rows (:func:`_lock_for_admin_change`).
    """
    if staff_id == principal.staff_id:
        raise ConflictError("staff members cannot disable their own account")
    clock = services.clock

    async def work(uow: UnitOfWork) -> StaffView:
        conn = await uow.connection()
        row = await _lock_for_admin_change(conn, principal, staff_id)
        if row.status != StaffStatus.DISABLED:
            await _keep_an_admin(conn, row)
            now = clock.now()
            await repo.update_staff(conn, staff_id, status=StaffStatus.DISABLED)
            ended = await repo.revoke_sessions_of(conn, staff_id, now)
            await record_event(
                conn,
                clock=clock,
                actor=principal.actor(),
                action="staff.disabled",
                subject_type="staff",
                subject_id=staff_id,
                details={"sessions_ended": ended},
            )
        return await _view(conn, staff_id)

    return await run_unit(services.engine, work)


async def change_role(
    services: Services, principal: StaffPrincipal, *, staff_id: str, role: str
) -> StaffView:
    """Give a staff member another role and end their sessions, so the new role applies
    from their next sign-in (``staff.role_changed`` audited with both roles); the same
    role again is a no-op.

    Refusals in order: ``422 validation_error`` (unknown role); ``409 conflict`` (one's
    own role); ``401 unauthorized`` (the caller was disabled meanwhile); ``404
    not_found``; ``409 last_admin`` (the last active admin would lose the role). Locks
    the caller's and the target's rows (:func:`_lock_for_admin_change`).
    """
    if role not in STAFF_ROLES:
        raise ValidationFailedError(f"unknown role; one of {', '.join(STAFF_ROLES)}")
    if staff_id == principal.staff_id:
        raise ConflictError("staff members cannot change their own role")
    clock = services.clock

    async def work(uow: UnitOfWork) -> StaffView:
        conn = await uow.connection()
        row = await _lock_for_admin_change(conn, principal, staff_id)
        if row.role != role:
            if role != StaffRole.ADMIN:
                await _keep_an_admin(conn, row)
            await repo.update_staff(conn, staff_id, role=role)
            ended = await repo.revoke_sessions_of(conn, staff_id, clock.now())
            await record_event(
                conn,
                clock=clock,
                actor=principal.actor(),
                action="staff.role_changed",
                subject_type="staff",
                subject_id=staff_id,
                details={"from": row.role, "to": role, "sessions_ended": ended},
            )
        return await _view(conn, staff_id)

    return await run_unit(services.engine, work)


def staff_password_problems(new_password: str, *, current_password: str) -> list[str]:
    reasons = login_password_problems(new_password)
    if len(new_password) < STAFF_PASSWORD_MIN_LENGTH and "too_short" not in reasons:
        reasons.append("too_short")
    if new_password == current_password:
        reasons.append("same_as_current")
    return reasons


async def change_password(
    services: Services,
    principal: StaffPrincipal,
    *,
    current_password: str,
    new_password: str,
) -> None:
    """Replace the password (the one-time one, or a chosen one); other sessions end
    (``staff.password_changed`` audited; a wrong current password ``staff.sign_in_failed``).

    Refusals in order: ``422 weak_password`` (the staff policy, checked before anything is
    counted); ``429 too_many_attempts`` (the sign-in lock holds: nothing checked);
    ``401 invalid_credentials`` (wrong current password). Proving the current password
    spends a sign-in attempt, counted before the check as sign-in counts it
    (:func:`~ewallet.staff.service.credentials.count_attempt`), so a stolen console session
    cannot be used to guess the password, not even with a parallel burst. Locks the staff
    row ``FOR UPDATE`` in two short units (count, then change); argon2 runs between them.
    """
    reasons = staff_password_problems(new_password, current_password=current_password)
    if reasons:
        raise WeakPasswordError("the new password does not meet the staff policy", reasons=reasons)
    security, clock = services.security, services.clock

    async def reserve(uow: UnitOfWork) -> repo.StaffRow | Exception:
        conn = await uow.connection()
        row = await repo.staff_by_id(conn, principal.staff_id, for_update=True)
        if row is None:
            raise NotFoundError("no such staff member")
        refused = await count_attempt(conn, settings=services.settings, clock=clock, row=row)
        return row if refused is None else refused

    row = await run_unit(services.engine, reserve)
    if isinstance(row, Exception):
        raise row
    proven = await security.passwords.verify(row.password_hash, current_password)
    new_hash = await security.passwords.hash(new_password) if proven else None

    async def work(uow: UnitOfWork) -> bool:
        conn = await uow.connection()
        current = await repo.staff_by_id(conn, principal.staff_id, for_update=True)
        assert current is not None
        if new_hash is None or current.password_hash != row.password_hash:
            details: dict[str, Any] = {"reason": "password_change", "failures": current.failures}
            if current.locked_until is not None:
                details["locked_until"] = current.locked_until.isoformat()
            await record_event(
                conn,
                clock=clock,
                actor=principal.actor(),
                action="staff.sign_in_failed",
                subject_type="staff",
                subject_id=principal.staff_id,
                details=details,
            )
            return False
        await repo.update_staff(
            conn,
            principal.staff_id,
            password_hash=new_hash,
            must_change_password=False,
            failures=0,
            locked_until=None,
        )
        ended = await repo.revoke_sessions_of(
            conn, principal.staff_id, clock.now(), keep=principal.session_id
        )
        await record_event(
            conn,
            clock=clock,
            actor=principal.actor(),
            action="staff.password_changed",
            subject_type="staff",
            subject_id=principal.staff_id,
            details={"other_sessions_ended": ended},
        )
        return True

    if not await run_unit(services.engine, work):
        raise InvalidCredentialsError("the current password is wrong")
