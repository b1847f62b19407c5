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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyotp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.config import Settings
from ewallet.identity.errors import InvalidCredentialsError, WeakPasswordError
from ewallet.identity.password_policy import login_password_problems
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.models.operations import STAFF_ROLES
from ewallet.security.context import SecurityContext
from ewallet.staff import repository as repo
from ewallet.staff.errors import StaffEmailTakenError
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.sessions import count_attempt, normalize_email, totp_context

TOTP_ISSUER = "ewallet staff"
# Staff accounts reach every customer: a longer minimum than the customers' 8 characters.
STAFF_PASSWORD_MIN_LENGTH = 12
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class StaffView:
    id: str
    email: str
    role: str
    display_name: str | None
    status: str
    must_change_password: bool
    created_at: datetime
    last_sign_in_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> StaffView:
        return cls(
            id=row.id,
            email=row.email,
            role=row.role,
            display_name=row.display_name,
            status=row.status,
            must_change_password=bool(row.must_change_password),
            created_at=row.created_at,
            last_sign_in_at=row.last_sign_in_at,
        )


@dataclass(frozen=True, slots=True)
class NewStaff:
    """A created staff member and the secrets shown this once (never stored in clear)."""

    staff: StaffView
    password: str
    totp_secret: str
    otpauth_uri: str


def valid_email(email: str) -> str:
    email = normalize_email(email)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValidationFailedError("not an email address")
    return email


async def create_staff(
    engine: AsyncEngine,
    *,
    security: SecurityContext,
    clock: Clock,
    actor: Actor,
    email: str,
    role: str,
    display_name: str | None = None,
) -> NewStaff:
    """A new active staff member with a one-time password and a fresh TOTP secret."""
    email = valid_email(email)
    if role not in STAFF_ROLES:
        raise ValidationFailedError(f"unknown role; one of {', '.join(STAFF_ROLES)}")
    password = secrets.token_urlsafe(18)
    totp_secret = pyotp.random_base32()
    password_hash = await security.passwords.hash(password)
    staff_id = new_id("stf")

    async def work(uow: UnitOfWork) -> StaffView:
        conn = await uow.connection()
        if await repo.staff_by_email(conn, email) is not None:
            raise StaffEmailTakenError("a staff member with this email exists")
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
            status="active",
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
        row = await repo.staff_by_id(conn, staff_id)
        return StaffView.of(row)

    try:
        view = await run_unit(engine, work)
    except IntegrityError:  # a concurrent creation with the same email won the race
        raise StaffEmailTakenError("a staff member with this email exists") from None
    uri = pyotp.TOTP(totp_secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)
    return NewStaff(view, password, totp_secret, uri)


async def get_staff(engine: AsyncEngine, staff_id: str) -> StaffView:
    async def work(uow: UnitOfWork) -> Any:
        return await repo.staff_by_id(await uow.connection(), staff_id)

    row = await run_unit(engine, work, read_only=True)
    if row is None:
        raise NotFoundError("no such staff member")
    return StaffView.of(row)


async def list_all_staff(engine: AsyncEngine) -> list[StaffView]:
    async def work(uow: UnitOfWork) -> list[Any]:
        return await repo.list_staff(await uow.connection())

    return [StaffView.of(row) for row in await run_unit(engine, work, read_only=True)]


async def disable_staff(
    engine: AsyncEngine, *, clock: Clock, principal: StaffPrincipal, staff_id: str
) -> StaffView:
    """Disable a staff member and end their sessions at once; disabling twice is a no-op."""
    if staff_id == principal.staff_id:
        raise ConflictError("staff members cannot disable their own account")

    async def work(uow: UnitOfWork) -> StaffView:
        conn = await uow.connection()
        row = await repo.staff_by_id(conn, staff_id, for_update=True)
        if row is None:
            raise NotFoundError("no such staff member")
        if row.status != "disabled":
            now = clock.now()
            await repo.update_staff(conn, staff_id, status="disabled")
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
        return StaffView.of(await repo.staff_by_id(conn, staff_id))

    return await run_unit(engine, work)


def staff_password_problems(new_password: str, *, current_password: str) -> list[str]:
    reasons = login_password_problems(new_password)
    if len(new_password) < STAFF_PASSWORD_MIN_LENGTH and "too_short" not in reasons:
        reasons.append("too_short")
    if new_password == current_password:
        reasons.append("same_as_current")
    return reasons


async def change_password(
    engine: AsyncEngine,
    *,
    security: SecurityContext,
    settings: Settings,
    clock: Clock,
    principal: StaffPrincipal,
    current_password: str,
    new_password: str,
) -> None:
    """Replace the password (the one-time one, or a chosen one); other sessions end.

    Proving the current password spends a sign-in attempt, counted before the check as
    sign-in counts it (:func:`ewallet.staff.sessions.count_attempt`), so a stolen console
    session cannot be used to guess the password, not even with a parallel burst: while the
    lock holds, the change answers ``429 too_many_attempts`` and checks nothing.
    """
    reasons = staff_password_problems(new_password, current_password=current_password)
    if reasons:
        raise WeakPasswordError("the new password does not meet the staff policy", reasons=reasons)

    async def reserve(uow: UnitOfWork) -> Any:
        conn = await uow.connection()
        row = await repo.staff_by_id(conn, principal.staff_id, for_update=True)
        if row is None:
            raise NotFoundError("no such staff member")
        refused = await count_attempt(conn, settings=settings, clock=clock, row=row)
        return row if refused is None else refused

    row = await run_unit(engine, reserve)
    if isinstance(row, Exception):
        raise row
    proven = await security.passwords.verify(row.password_hash, current_password)
    new_hash = await security.passwords.hash(new_password) if proven else None

    async def work(uow: UnitOfWork) -> bool:
        conn = await uow.connection()
        current = await repo.staff_by_id(conn, principal.staff_id, for_update=True)
        assert current is not None
        if new_hash is None or current.password_hash != row.password_hash:
            details: dict[str, Any] = {
                "reason": "password_change",
                "failures": int(current.failures),
            }
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

    if not await run_unit(engine, work):
        raise InvalidCredentialsError("the current password is wrong")
