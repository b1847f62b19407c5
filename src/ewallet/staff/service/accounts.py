"""Staff accounts: creation (CLI and admins), password change, disabling, listing.

A new staff member gets a random one-time password and a TOTP secret, both shown once;
TOTP is mandatory, so the secret is created with the account and there is no way to sign
in without it. ``must_change_password`` stays set until the staff member chooses their
own password (``PUT /v1/staff/me/password``); until then only that, ``GET /v1/staff/me``
and sign-out are allowed. Every change is audit-logged in the same transaction.
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
from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.models.operations import STAFF_ROLES, StaffStatus
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.errors import StaffEmailTakenError
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service.credentials import count_attempt
from ewallet.staff.service.sessions import normalize_email, totp_context
from ewallet.staff.views import NewStaff, StaffView

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


async def disable_staff(
    services: Services, principal: StaffPrincipal, *, staff_id: str
) -> StaffView:
    """Disable a staff member and end their sessions at once (``staff.disabled`` audited);
    disabling twice is a no-op.

    Refusals in order: ``409 conflict`` (disabling one's own account);
    ``404 not_found``. Locks the staff row ``FOR UPDATE``.
    """
    if staff_id == principal.staff_id:
        raise ConflictError("staff members cannot disable their own account")
    clock = services.clock

    async def work(uow: UnitOfWork) -> StaffView:
        conn = await uow.connection()
        row = await repo.staff_by_id(conn, staff_id, for_update=True)
        if row is None:
            raise NotFoundError("no such staff member")
        if row.status != StaffStatus.DISABLED:
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
