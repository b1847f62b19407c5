"""Merchant people: creating them, signing in to the portal, the authenticator, passwords,
the idle lock, sign-out and disabling.

Creation: staff (``POST /v1/staff/merchants/{id}/users``) and the CLI make any role; an
owner makes managers and cashiers from the portal's Team page. Each gets a random
one-time password, shown once, that must be replaced at the first sign-in.

Sign-in: email and password for everyone, plus the authenticator's code for owners and
managers once they enrolled it. An owner or manager who has not enrolled yet (the first
sign-in) gets a session that may only enrol the authenticator and then replace the
one-time password (the portal sends them there; :class:`PortalUser` says which). Any
refusal of the credentials is one answer, ``401 invalid_credentials``; an unknown email
costs the same argon2 work. ``login_lock_threshold`` consecutive failures lock the
account -- or an unknown email -- for ``login_lock_minutes`` (``429 too_many_attempts``);
each attempt is counted on the locked row *before* the password is compared, and the
comparison itself runs outside any transaction (argon2 is slow; a SQLite writer would
stall the others). A TOTP code is accepted once (its time step is stored). Each client
address has ``login_per_ip_minute`` attempts a minute (``429 rate_limited``).

Every change is audit-logged in its own transaction, with the merchant user as the actor
(``Actor("merchant", <user id>)``), staff or the system where they act.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.identity.errors import (
    InvalidCredentialsError,
    TooManyAttemptsError,
    TotpInvalidError,
    WeakPasswordError,
)
from ewallet.identity.password_policy import login_password_problems
from ewallet.identity.totp.otp import matching_step
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, UnauthorizedError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.merchants.people import repository as repo
from ewallet.merchants.people.errors import (
    MerchantUserDisabledError,
    MerchantUserEmailTakenError,
    TeamRuleError,
)
from ewallet.merchants.people.permissions import (
    OWNER_MAY_CREATE,
    REFUNDING,
    TEAM,
)
from ewallet.merchants.people.views import (
    MerchantUserView,
    NewMerchantUser,
    PortalSession,
    PortalUser,
    TotpEnrolment,
)
from ewallet.models.merchant_users import MERCHANT_ROLES, MerchantRole, MerchantUserStatus
from ewallet.models.merchants import MerchantStatus
from ewallet.security.ratelimit import Rule
from ewallet.services import Services

TOTP_ISSUER = "ewallet merchant"
MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_WRONG = "wrong email, password or authenticator code"
_TAKEN = "someone signs in with this email already"
_DUMMY_PASSWORD = "ewallet-no-such-merchant-user"  # noqa: S105 -- hashed for equal cost
_dummy: dict[int, str] = {}


def normalize_email(email: str) -> str:
    return email.strip().lower()


def totp_context(user_id: str) -> str:
    """Binds an encrypted TOTP secret to its row: copied to another row, it won't open."""
    return f"merchant-user-totp:{user_id}"


def _valid_email(email: str) -> str:
    email = normalize_email(email)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValidationFailedError("not an email address", field="email")
    return email


def _valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 80:
        raise ValidationFailedError("a name of 1-80 characters", field="name")
    return name


async def _audit(  # noqa: PLR0917 -- one call shape for every event here
    conn: AsyncConnection,
    services: Services,
    actor: Actor,
    action: str,
    subject_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    await record_event(
        conn,
        clock=services.clock,
        actor=actor,
        action=action,
        subject_type="merchant_user",
        subject_id=subject_id,
        details=details or {},
    )


# -- creating people --------------------------------------------------------------------


async def create_user(
    services: Services,
    actor: Actor,
    *,
    merchant_id: str,
    email: str,
    name: str,
    role: str,
) -> NewMerchantUser:
    """A new active merchant user with a one-time password (``merchant_user.created``
    audited under ``actor``: staff or the system). Any role.

    Refusals in order: ``422 validation_error`` (email, name, role); ``404 not_found`` (no
    such merchant); ``409 conflict`` (the email is taken, by anyone).
    """
    if role not in MERCHANT_ROLES:
        raise ValidationFailedError(f"role: one of {', '.join(MERCHANT_ROLES)}", field="role")
    return await _create(
        services, actor, merchant_id=merchant_id, email=email, name=name, role=role
    )


async def add_team_member(
    services: Services, owner: PortalUser, *, email: str, name: str, role: str
) -> NewMerchantUser:
    """An owner adds a manager or a cashier to their own merchant (one-time password
    shown once). ``403 forbidden`` for anyone but an owner, or for another role."""
    if not TEAM.allows(owner.role):
        raise TeamRuleError("only the owner manages the team")
    if role not in OWNER_MAY_CREATE:
        raise ValidationFailedError("role: manager or cashier", field="role")
    return await _create(
        services, owner.actor(), merchant_id=owner.merchant_id, email=email, name=name, role=role
    )


async def _create(
    services: Services, actor: Actor, *, merchant_id: str, email: str, name: str, role: str
) -> NewMerchantUser:
    email, name = _valid_email(email), _valid_name(name)
    password = secrets.token_urlsafe(12)
    password_hash = await services.security.passwords.hash(password)
    user_id = new_id("mu")

    async def work(uow: UnitOfWork) -> MerchantUserView:
        conn = await uow.connection()
        if await repo.merchant_name(conn, merchant_id) is None:
            raise NotFoundError("no such merchant")
        if await repo.user_by_email(conn, email) is not None:
            raise MerchantUserEmailTakenError(_TAKEN)
        await repo.insert_user(
            conn,
            id=user_id,
            merchant_id=merchant_id,
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            must_change_password=True,
            status=MerchantUserStatus.ACTIVE,
            failures=0,
            created_by=f"{actor.type}:{actor.id or ''}"[:40],
            created_at=services.clock.now(),
        )
        await _audit(
            conn,
            services,
            actor,
            "merchant_user.created",
            user_id,
            {"merchant_id": merchant_id, "role": role},
        )
        row = await repo.user_by_id(conn, user_id)
        assert row is not None
        return row.view()

    try:
        view = await run_unit(services.engine, work)
    except IntegrityError:  # a concurrent creation with the same email won the race
        raise MerchantUserEmailTakenError(_TAKEN) from None
    return NewMerchantUser(view, password)


async def list_users(services: Services, *, merchant_id: str) -> list[MerchantUserView]:
    """The merchant's people, oldest first (``404`` for an unknown merchant)."""

    async def read(uow: UnitOfWork) -> list[MerchantUserView] | None:
        conn = await uow.connection()
        if await repo.merchant_name(conn, merchant_id) is None:
            return None
        return [row.view() for row in await repo.users_of(conn, merchant_id)]

    found = await run_unit(services.engine, read, read_only=True)
    if found is None:
        raise NotFoundError("no such merchant")
    return found


async def team(services: Services, owner: PortalUser) -> list[MerchantUserView]:
    """The owner's own merchant's people (``403`` for anyone else)."""
    if not TEAM.allows(owner.role):
        raise TeamRuleError("only the owner manages the team")
    return await list_users(services, merchant_id=owner.merchant_id)


async def _teammate(conn: AsyncConnection, owner: PortalUser, user_id: str) -> repo.MerchantUserRow:
    """A member of the owner's merchant, locked; another merchant's id is ``404``."""
    if not TEAM.allows(owner.role):
        raise TeamRuleError("only the owner manages the team")
    row = await repo.user_by_id(conn, user_id, for_update=True)
    if row is None or row.merchant_id != owner.merchant_id:
        raise NotFoundError("no such person in your team")
    if row.role == MerchantRole.OWNER:
        raise TeamRuleError("an owner is changed by the wallet's staff")
    return row


async def disable_member(services: Services, owner: PortalUser, *, user_id: str) -> None:
    """The owner disables a manager or cashier: their sessions end at once."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        row = await _teammate(conn, owner, user_id)
        now = services.clock.now()
        await repo.update_user(conn, row.id, status=MerchantUserStatus.DISABLED)
        await repo.revoke_sessions_of(conn, row.id, now)
        await _audit(conn, services, owner.actor(), "merchant_user.disabled", row.id)

    await run_unit(services.engine, work)


async def reset_member_password(
    services: Services, owner: PortalUser, *, user_id: str
) -> NewMerchantUser:
    """The owner gives a manager or cashier a new one-time password (shown once); their
    sessions end and the failure lock is cleared."""
    password = secrets.token_urlsafe(12)
    password_hash = await services.security.passwords.hash(password)

    async def work(uow: UnitOfWork) -> MerchantUserView:
        conn = await uow.connection()
        row = await _teammate(conn, owner, user_id)
        now = services.clock.now()
        await repo.update_user(
            conn,
            row.id,
            password_hash=password_hash,
            must_change_password=True,
            failures=0,
            locked_until=None,
        )
        await repo.revoke_sessions_of(conn, row.id, now)
        await _audit(conn, services, owner.actor(), "merchant_user.password_reset", row.id)
        fresh = await repo.user_by_id(conn, row.id)
        assert fresh is not None
        return fresh.view()

    view = await run_unit(services.engine, work)
    return NewMerchantUser(view, password)


# -- signing in ---------------------------------------------------------------------------


def ip_rule(services: Services) -> Rule:
    return Rule("merchant-sign-in-ip", services.settings.login_per_ip_minute, timedelta(minutes=1))


def _locked(locked_until: datetime, now: datetime) -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many failed sign-ins; the account is locked for a while",
        retry_after=max(1, math.ceil((locked_until - now).total_seconds())),
    )


async def _count_attempt(
    conn: AsyncConnection, services: Services, row: repo.MerchantUserRow
) -> TooManyAttemptsError | None:
    """One proof of the password counted on the locked row *before* it is checked; the
    lock's refusal while it holds. The attempt that spends the budget turns the lock on."""
    now = services.clock.now()
    failures, locked_until = row.failures, row.locked_until
    if locked_until is not None and locked_until > now:
        return _locked(locked_until, now)
    if locked_until is not None:
        failures, locked_until = 0, None  # the lock was served: a fresh budget
    failures += 1
    if failures >= services.settings.login_lock_threshold:
        locked_until = now + timedelta(minutes=services.settings.login_lock_minutes)
    await repo.update_user(conn, row.id, failures=failures, locked_until=locked_until)
    return None


async def _reserve(
    services: Services, *, email: str | None = None, user_id: str | None = None
) -> repo.MerchantUserRow | None:
    async def work(uow: UnitOfWork) -> repo.MerchantUserRow | TooManyAttemptsError | None:
        conn = await uow.connection()
        if user_id is not None:
            row = await repo.user_by_id(conn, user_id, for_update=True)
        else:
            row = await repo.user_by_email(conn, email or "", for_update=True)
        if row is None:
            return None
        refused = await _count_attempt(conn, services, row)
        return row if refused is None else refused

    found = await run_unit(services.engine, work)
    if isinstance(found, TooManyAttemptsError):
        raise found
    return found


async def _dummy_hash(services: Services) -> str:
    key = id(services.security.passwords)
    if key not in _dummy:
        _dummy[key] = await services.security.passwords.hash(_DUMMY_PASSWORD)
    return _dummy[key]


async def _refuse_unknown_lock(services: Services, email: str) -> None:
    """An unknown email is locked like an account: ``login_lock_threshold`` tries within
    ``login_lock_minutes``, then ``429 too_many_attempts`` (counted in the rate-limit store
    under a keyed digest), so a lock does not tell whether the email belongs to someone."""
    settings = services.settings
    rule = Rule(
        "merchant-sign-in-unknown",
        settings.login_lock_threshold,
        timedelta(minutes=settings.login_lock_minutes),
    )
    digest = services.security.digest("merchant-user-email:" + email)
    refused = await services.limiter.hit(rule, digest)
    if refused is not None:
        raise TooManyAttemptsError("the account is locked", retry_after=refused.seconds)


async def sign_in(
    services: Services, *, email: str, password: str, totp_code: str, ip: str | None
) -> PortalSession:
    """A new portal session (``merchant_user.signed_in`` audited).

    Refusals in order: ``429 rate_limited`` (the address); ``429 too_many_attempts`` (the
    account is locked, nothing checked); ``401 invalid_credentials`` (unknown email, wrong
    password, wrong or reused authenticator code); ``403 forbidden`` (right credentials of
    a disabled person or merchant).
    """
    email = normalize_email(email)
    refused = await services.limiter.hit(ip_rule(services), ip or "unknown")
    if refused is not None:
        raise refused.error("too many sign-in attempts from this address")
    row = await _reserve(services, email=email)
    if row is None:
        await _refuse_unknown_lock(services, email)
        await services.security.passwords.verify(await _dummy_hash(services), password)
        await _audit_alone(
            services,
            Actor("anonymous", None, ip),
            "merchant_user.sign_in_failed",
            None,
            {"reason": "unknown_email"},
        )
        raise InvalidCredentialsError(_WRONG)
    password_ok = await services.security.passwords.verify(row.password_hash, password)

    async def settle(uow: UnitOfWork) -> PortalSession | Exception:
        conn = await uow.connection()
        now = services.clock.now()
        current = await repo.user_by_id(conn, row.id, for_update=True)
        assert current is not None  # merchant users are disabled, never deleted
        failure, step = None, None
        if not password_ok or current.password_hash != row.password_hash:
            failure = "password"
        elif current.totp_enrolled_at is not None and current.totp_secret_encrypted:
            secret = services.security.cipher.decrypt(
                current.totp_secret_encrypted, context=totp_context(current.id)
            )
            step = matching_step(secret, totp_code.strip(), int(now.timestamp()))
            if step is None:
                failure = "totp"
            elif current.totp_last_step is not None and step <= current.totp_last_step:
                failure = "totp_reused"
        if failure is not None:
            await _audit(
                conn,
                services,
                Actor("anonymous", None, ip),
                "merchant_user.sign_in_failed",
                current.id,
                {"reason": failure, "failures": current.failures},
            )
            return InvalidCredentialsError(_WRONG)
        changes: dict[str, Any] = {"failures": 0, "locked_until": None}
        if step is not None:
            changes["totp_last_step"] = step
        actor = Actor("merchant", current.id, ip)
        merchant_active = await _merchant_active(conn, current.merchant_id)
        if current.status != MerchantUserStatus.ACTIVE or not merchant_active:
            await repo.update_user(conn, current.id, **changes)
            await _audit(
                conn,
                services,
                actor,
                "merchant_user.sign_in_refused",
                current.id,
                {"reason": "disabled"},
            )
            return MerchantUserDisabledError("this account is disabled")
        session_id = new_id("mss")
        expires_at = now + timedelta(hours=services.settings.merchant_session_hours)
        await repo.update_user(conn, current.id, last_sign_in_at=now, **changes)
        await repo.insert_session(
            conn, session_id=session_id, user_id=current.id, now=now, expires_at=expires_at
        )
        await _audit(
            conn, services, actor, "merchant_user.signed_in", current.id, {"session_id": session_id}
        )
        return PortalSession(
            session_id=session_id,
            expires_at=expires_at,
            must_enrol_totp=_must_enrol(current.role, current.totp_enrolled_at),
            must_change_password=current.must_change_password,
        )

    outcome = await run_unit(services.engine, settle)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def _merchant_active(conn: AsyncConnection, merchant_id: str) -> bool:
    return await repo.merchant_status(conn, merchant_id) == MerchantStatus.ACTIVE


def _must_enrol(role: str, enrolled_at: datetime | None) -> bool:
    return role != MerchantRole.CASHIER and enrolled_at is None


async def _audit_alone(
    services: Services,
    actor: Actor,
    action: str,
    subject_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    async def work(uow: UnitOfWork) -> None:
        await _audit(await uow.connection(), services, actor, action, subject_id, details)

    await run_unit(services.engine, work)


async def portal_session(services: Services, *, session_id: str, ip: str | None) -> PortalUser:
    """The merchant user of a live session (the portal's cookie names it). ``401
    unauthorized`` for a session unknown, ended, or of a disabled person or merchant. One
    read-only unit, no lock."""

    async def load(uow: UnitOfWork) -> repo.SessionGrant | None:
        return await repo.session_grant(await uow.connection(), session_id)

    grant = await run_unit(services.engine, load, read_only=True)
    now = services.clock.now()
    if grant is None:
        raise UnauthorizedError("unknown session")
    ended = grant.revoked_at is not None or grant.expires_at <= now
    if (
        ended
        or grant.status != MerchantUserStatus.ACTIVE
        or grant.merchant_status != MerchantStatus.ACTIVE
    ):
        raise UnauthorizedError("the session has ended; sign in again")
    return PortalUser(
        user_id=grant.user_id,
        merchant_id=grant.merchant_id,
        merchant_name=grant.merchant_name,
        session_id=session_id,
        role=grant.role,
        name=grant.name,
        email=grant.email,
        must_change_password=grant.must_change_password,
        must_enrol_totp=_must_enrol(grant.role, grant.totp_enrolled_at),
        session_expires_at=grant.expires_at,
        ip=ip,
    )


async def sign_out(services: Services, user: PortalUser) -> None:
    """End the caller's session at once (``merchant_user.signed_out`` audited)."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await repo.revoke_session(conn, user.session_id, services.clock.now())
        await _audit(
            conn,
            services,
            user.actor(),
            "merchant_user.signed_out",
            user.user_id,
            {"session_id": user.session_id},
        )

    await run_unit(services.engine, work)


async def unlock(services: Services, user: PortalUser, *, password: str) -> None:
    """Unlock a portal left idle: the password again, counted against the sign-in lock.
    ``401 invalid_credentials`` when wrong; ``429 too_many_attempts`` once locked (the
    caller then ends the session)."""
    row = await _reserve(services, user_id=user.user_id)
    assert row is not None  # a live session's row exists
    matches = await services.security.passwords.verify(row.password_hash, password)

    async def settle(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        if matches:
            await repo.update_user(conn, row.id, failures=0, locked_until=None)
        action = "merchant_user.unlocked" if matches else "merchant_user.unlock_failed"
        await _audit(conn, services, user.actor(), action, row.id, {"session_id": user.session_id})

    await run_unit(services.engine, settle)
    if not matches:
        raise InvalidCredentialsError("wrong password")


# -- the authenticator and the password --------------------------------------------------


async def totp_enrolment(services: Services, user: PortalUser) -> TotpEnrolment:
    """The secret an owner or manager scans at the first sign-in: made once and kept
    (encrypted) until confirmed, so reloading the page shows the same code. ``403`` for a
    cashier or someone already enrolled."""
    if not user.must_enrol_totp:
        raise TeamRuleError("the authenticator is enrolled already")

    async def work(uow: UnitOfWork) -> str:
        conn = await uow.connection()
        row = await repo.user_by_id(conn, user.user_id, for_update=True)
        assert row is not None
        if row.totp_secret_encrypted:
            return services.security.cipher.decrypt(
                row.totp_secret_encrypted, context=totp_context(row.id)
            )
        secret = pyotp.random_base32()
        encrypted = services.security.cipher.encrypt(secret, context=totp_context(row.id))
        await repo.update_user(conn, row.id, totp_secret_encrypted=encrypted)
        return secret

    secret = await run_unit(services.engine, work)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)
    return TotpEnrolment(secret, uri)


async def confirm_totp(services: Services, user: PortalUser, *, code: str) -> None:
    """The first code from the authenticator proves it was scanned; from now on sign-in
    asks for a code (``merchant_user.totp_enrolled``). ``422 totp_invalid`` when wrong."""
    if not user.must_enrol_totp:
        raise TeamRuleError("the authenticator is enrolled already")

    async def work(uow: UnitOfWork) -> Exception | None:
        conn = await uow.connection()
        row = await repo.user_by_id(conn, user.user_id, for_update=True)
        assert row is not None
        if not row.totp_secret_encrypted:
            return TotpInvalidError("scan the code first")
        secret = services.security.cipher.decrypt(
            row.totp_secret_encrypted, context=totp_context(row.id)
        )
        now = services.clock.now()
        step = matching_step(secret, code.strip(), int(now.timestamp()))
        if step is None:
            return TotpInvalidError("the authenticator code is wrong")
        await repo.update_user(conn, row.id, totp_enrolled_at=now, totp_last_step=step)
        await _audit(conn, services, user.actor(), "merchant_user.totp_enrolled", row.id)
        return None

    refused = await run_unit(services.engine, work)
    if refused is not None:
        raise refused


async def change_password(
    services: Services, user: PortalUser, *, current_password: str, new_password: str
) -> None:
    """Replace the password (the one-time one at the first sign-in). ``401
    invalid_credentials`` for a wrong current password (counted against the lock); ``422
    weak_password`` with ``reasons`` for a new one too short, too common or unchanged."""
    problems = login_password_problems(new_password)
    if len(new_password) < MIN_PASSWORD_LENGTH and "too_short" not in problems:
        problems.append("too_short")
    if new_password == current_password:
        problems.append("same_as_current")
    if problems:
        raise WeakPasswordError("choose another password", reasons=problems)
    row = await _reserve(services, user_id=user.user_id)
    assert row is not None
    if not await services.security.passwords.verify(row.password_hash, current_password):
        await _audit_alone(services, user.actor(), "merchant_user.password_change_failed", row.id)
        raise InvalidCredentialsError("the current password is wrong")
    new_hash = await services.security.passwords.hash(new_password)

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await repo.update_user(
            conn,
            row.id,
            password_hash=new_hash,
            must_change_password=False,
            failures=0,
            locked_until=None,
        )
        await _audit(conn, services, user.actor(), "merchant_user.password_changed", row.id)

    await run_unit(services.engine, work)


# -- confirming with the authenticator, approving for someone else ------------------------


async def confirm_with_code(
    services: Services, user: PortalUser, *, code: str, purpose: str
) -> None:
    """The signed-in owner or manager confirms an action (``purpose``, audited) with their
    authenticator's code: accepted once (its time step is stored), each try counted on
    their row against the sign-in lock. ``422 totp_invalid`` when wrong or reused; ``429
    too_many_attempts`` once locked; ``403`` for a person without an authenticator."""
    if not user.needs_totp or user.must_enrol_totp:
        raise TeamRuleError("this needs an authenticator")
    row = await _reserve(services, user_id=user.user_id)
    assert row is not None  # a live session's row exists

    async def settle(uow: UnitOfWork) -> Exception | None:
        conn = await uow.connection()
        current = await repo.user_by_id(conn, row.id, for_update=True)
        assert current is not None
        step = None
        if current.totp_secret_encrypted:
            secret = services.security.cipher.decrypt(
                current.totp_secret_encrypted, context=totp_context(current.id)
            )
            step = matching_step(secret, code.strip(), int(services.clock.now().timestamp()))
        if step is None or (current.totp_last_step is not None and step <= current.totp_last_step):
            await _audit(
                conn,
                services,
                user.actor(),
                "merchant_user.confirmation_failed",
                current.id,
                {"purpose": purpose},
            )
            return TotpInvalidError("the authenticator code is wrong")
        await repo.update_user(conn, current.id, failures=0, locked_until=None, totp_last_step=step)
        await _audit(
            conn,
            services,
            user.actor(),
            "merchant_user.confirmed",
            current.id,
            {"purpose": purpose},
        )
        return None

    refused = await run_unit(services.engine, settle)
    if refused is not None:
        raise refused


async def verify_approver(
    services: Services,
    requester: PortalUser,
    *,
    email: str,
    password: str,
    totp_code: str,
    purpose: str,
) -> MerchantUserView:
    """A second person of the requester's merchant -- an owner or manager
    (``REFUNDING``) -- approves an action on their behalf (a cashier's refund at the
    till): their email, password and authenticator code, as at sign-in. The attempt is
    counted on the approver's row *before* the password is compared (wrong credentials
    lock the approver as failed sign-ins do); a person of another merchant is answered
    like an unknown email, their row untouched.

    Refusals in order: ``429 too_many_attempts`` (the approver is locked); ``401
    invalid_credentials`` (unknown email or another merchant's, wrong password, wrong or
    reused code); ``403 forbidden`` (right password of a cashier, or of someone
    disabled). Both people are named in the audit events (``merchant_user.approved`` /
    ``.approval_failed``).
    """
    email = normalize_email(email)

    async def reserve(uow: UnitOfWork) -> repo.MerchantUserRow | TooManyAttemptsError | None:
        conn = await uow.connection()
        row = await repo.user_by_email(conn, email, for_update=True)
        if row is None or row.merchant_id != requester.merchant_id:
            return None
        refused = await _count_attempt(conn, services, row)
        return row if refused is None else refused

    found = await run_unit(services.engine, reserve)
    if isinstance(found, TooManyAttemptsError):
        raise found
    details = {"purpose": purpose, "requested_by": requester.user_id}
    if found is None:
        await _refuse_unknown_lock(services, email)
        await services.security.passwords.verify(await _dummy_hash(services), password)
        await _audit_alone(
            services,
            requester.actor(),
            "merchant_user.approval_failed",
            None,
            {**details, "reason": "unknown_email"},
        )
        raise InvalidCredentialsError(_WRONG)
    row = found
    password_ok = await services.security.passwords.verify(row.password_hash, password)

    async def settle(uow: UnitOfWork) -> MerchantUserView | Exception:
        conn = await uow.connection()
        current = await repo.user_by_id(conn, row.id, for_update=True)
        assert current is not None
        failure: str | None = None
        refusal: Exception = InvalidCredentialsError(_WRONG)
        step = None
        if not password_ok or current.password_hash != row.password_hash:
            failure = "password"
        elif not REFUNDING.allows(current.role):
            failure, refusal = "role", TeamRuleError("this person may not approve this")
        elif current.status != MerchantUserStatus.ACTIVE:
            failure, refusal = "disabled", MerchantUserDisabledError("this account is disabled")
        elif current.totp_enrolled_at is None or not current.totp_secret_encrypted:
            failure = "totp"
        else:
            secret = services.security.cipher.decrypt(
                current.totp_secret_encrypted, context=totp_context(current.id)
            )
            now = int(services.clock.now().timestamp())
            step = matching_step(secret, totp_code.strip(), now)
            if step is None:
                failure = "totp"
            elif current.totp_last_step is not None and step <= current.totp_last_step:
                failure = "totp_reused"
        if failure is not None:
            if failure in {"role", "disabled"}:  # the password was right
                await repo.update_user(conn, current.id, failures=0, locked_until=None)
            await _audit(
                conn,
                services,
                requester.actor(),
                "merchant_user.approval_failed",
                current.id,
                {**details, "reason": failure, "approver": current.id},
            )
            return refusal
        await repo.update_user(conn, current.id, failures=0, locked_until=None, totp_last_step=step)
        await _audit(
            conn,
            services,
            requester.actor(),
            "merchant_user.approved",
            current.id,
            {**details, "approver": current.id},
        )
        return current.view()

    outcome = await run_unit(services.engine, settle)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
