"""Staff sign-in: email, password and TOTP code, and the failure lock.

Sign-in needs the email, the password and a TOTP code; any of them wrong answers
``invalid_credentials`` without saying which. An unknown email costs the same argon2 work
and the same audited write as a known one, so timing does not tell them apart. The
password is checked *outside* any transaction (argon2 takes tens of milliseconds and a
SQLite write transaction would stall every other writer meanwhile); the failure count, the
TOTP step and the session are then settled in one short transaction on the locked row.

Lock rule: ``login_lock_threshold`` consecutive failures lock the account for
``login_lock_minutes``; while locked, sign-in answers ``429 too_many_attempts`` with
``retry_after`` and checks nothing. Each attempt is counted *before* the password is
compared (:func:`_reserve`, on the locked row, committed): the one that takes the last
attempt of the budget turns the lock on at once, so a parallel burst gets exactly
``login_lock_threshold`` argon2 checks and the rest are refused unchecked. A failure is
then only audited; a success within the budget clears count and lock; a served lock gives
a fresh budget at the next attempt. Unknown emails are locked the same way (counted in the
rate-limit store), so a lock does not reveal a staff account either. Each client address
has ``login_per_ip_minute`` attempts a minute (``429 rate_limited``). A TOTP code is
accepted once: its time step is stored and that step or an older one is refused, even
with the right password.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal, NoReturn

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.config import Settings
from ewallet.identity.errors import InvalidCredentialsError, TooManyAttemptsError
from ewallet.identity.totp.otp import matching_step
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.operations import StaffStatus
from ewallet.security.passwords import Hasher
from ewallet.security.ratelimit import Interval, Rule
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.errors import StaffDisabledError
from ewallet.staff.service.sessions import issue_tokens, normalize_email, totp_context
from ewallet.staff.views import StaffTokens

Failure = Literal["password", "totp", "totp_reused"]
UNKNOWN_FAILURES = "staff-login-failures"  # keyed by email digest and lock generation
UNKNOWN_LOCKS = "staff-login-locks"  # how often an unknown email's lock engaged
# Failures of unknown emails fade after this much real time; a real account keeps its
# count until a success or a lock, which nobody can tell apart within a month.
UNKNOWN_FAILURES_TTL = timedelta(days=30)
_dummy_hashes: weakref.WeakKeyDictionary[Hasher, str] = weakref.WeakKeyDictionary()
_WRONG = "wrong email, password or authenticator code"


async def sign_in(
    services: Services,
    *,
    email: str,
    password: str,
    totp_code: str,
    ip: str | None,
) -> StaffTokens:
    """A new session and its first access token (``staff.signed_in`` audited).

    Refusals in order: ``429 rate_limited`` (too many attempts from ``ip``, nothing
    counted); ``429 too_many_attempts`` (the account -- or the unknown email -- is locked;
    nothing checked); ``401 invalid_credentials`` (unknown email, wrong password, wrong or
    reused TOTP code: one answer, one cost); ``403 staff_disabled`` (right credentials of
    a disabled account, said only once they were proven). Locks: the staff row
    ``FOR UPDATE``, in two short units (count, then settle).
    """
    email = normalize_email(email)
    settings, security = services.settings, services.security
    refused = await services.limiter.hit(ip_rule(settings), ip or "unknown")
    if refused is not None:
        raise refused.error("too many sign-in attempts from this address")

    reserve = partial(_reserve, settings=settings, clock=services.clock, email=email)
    row = await run_unit(services.engine, reserve)
    if isinstance(row, Exception):
        raise row
    if row is None:
        await _refuse_unknown(services, email=email, password=password, ip=ip)
    password_ok = await security.passwords.verify(row.password_hash, password)
    new_hash = None
    if password_ok and security.passwords.needs_rehash(row.password_hash):
        new_hash = await security.passwords.hash(password)
    attempt = _Attempt(
        services=services,
        ip=ip,
        staff_id=row.id,
        verified_hash=row.password_hash,
        password_ok=password_ok,
        totp_code=totp_code,
        new_hash=new_hash,
    )
    outcome = await run_unit(services.engine, attempt.settle)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def count_attempt(
    conn: AsyncConnection, *, settings: Settings, clock: Clock, row: repo.StaffRow
) -> TooManyAttemptsError | None:
    """Count one proof of the password on the staff member's row, locked by the caller,
    *before* it is checked: the lock's refusal while it holds, else None. The attempt that
    takes the last of the budget turns the lock on at once; a served lock gives a fresh
    budget. A success within the budget clears count and lock (its own unit does)."""
    now = clock.now()
    failures = row.failures
    locked_until = row.locked_until
    if locked_until is not None and locked_until > now:
        return _locked(locked_until, now)
    if locked_until is not None:
        failures, locked_until = 0, None  # the lock was served: a fresh budget
    failures += 1
    if failures >= settings.login_lock_threshold:
        locked_until = now + timedelta(minutes=settings.login_lock_minutes)
    await repo.update_staff(conn, row.id, failures=failures, locked_until=locked_until)
    return None


def ip_rule(settings: Settings) -> Rule:
    """Sign-in attempts per client address, the same budget customers' sign-in has."""
    return Rule("staff-sign-in-ip", settings.login_per_ip_minute, timedelta(minutes=1))


def unknown_email_lock(settings: Settings) -> Interval:
    """The lock emulated for emails without a staff member (see :func:`_refuse_unknown`)."""
    return Interval("staff-login-lock", timedelta(minutes=settings.login_lock_minutes))


def _locked(locked_until: datetime, now: datetime) -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many failed sign-ins; the account is locked for a while",
        retry_after=max(1, math.ceil((locked_until - now).total_seconds())),
    )


async def _reserve(
    uow: UnitOfWork, *, settings: Settings, clock: Clock, email: str
) -> repo.StaffRow | TooManyAttemptsError | None:
    """Count one attempt on the staff member's locked row before any check: the row (with
    the password hash to compare); the lock's refusal; None for an unknown email."""
    conn = await uow.connection()
    row = await repo.staff_by_email(conn, email, for_update=True)
    if row is None:
        return None
    refused = await count_attempt(conn, settings=settings, clock=clock, row=row)
    return row if refused is None else refused


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One sign-in after the password was checked: what the locked transaction decides on."""

    services: Services
    ip: str | None
    staff_id: str
    verified_hash: str
    password_ok: bool
    totp_code: str
    new_hash: str | None

    def failure(self, current: repo.StaffRow, now: datetime) -> tuple[Failure | None, int | None]:
        if not self.password_ok or current.password_hash != self.verified_hash:
            return "password", None
        secret = self.services.security.cipher.decrypt(
            current.totp_secret_encrypted, context=totp_context(current.id)
        )
        step = matching_step(secret, self.totp_code.strip(), int(now.timestamp()))
        if step is None:
            return "totp", None
        if current.totp_last_step is not None and step <= current.totp_last_step:
            return "totp_reused", None
        return None, step

    async def settle(self, uow: UnitOfWork) -> StaffTokens | Exception:
        conn = await uow.connection()
        now = self.services.clock.now()
        current = await repo.staff_by_id(conn, self.staff_id, for_update=True)
        assert current is not None  # staff rows are disabled, never deleted
        # No lock test here: this attempt was counted within the budget before the check
        # (_reserve), so its answer stands even if a parallel one took the last attempt.
        failure, step = self.failure(current, now)
        if failure is not None:
            details: dict[str, Any] = {"reason": failure, "failures": current.failures}
            if current.locked_until is not None and current.locked_until > now:
                details["locked_until"] = current.locked_until.isoformat()
            await self._audit(
                conn, Actor("anonymous", None, self.ip), "staff.sign_in_failed", details
            )
            return InvalidCredentialsError(_WRONG)
        changes: dict[str, Any] = {"totp_last_step": step, "failures": 0, "locked_until": None}
        if self.new_hash is not None:
            changes["password_hash"] = self.new_hash
        actor = Actor("staff", current.id, self.ip)
        if current.status != StaffStatus.ACTIVE:
            await repo.update_staff(conn, current.id, **changes)
            await self._audit(conn, actor, "staff.sign_in_refused", {"reason": "disabled"})
            return StaffDisabledError("this staff account is disabled")
        session_id = new_id("ssn")
        settings = self.services.settings
        expires_at = now + timedelta(hours=settings.staff_session_hours)
        await repo.update_staff(conn, current.id, last_sign_in_at=now, **changes)
        await repo.insert_session(
            conn, session_id=session_id, staff_id=current.id, now=now, expires_at=expires_at
        )
        await self._audit(conn, actor, "staff.signed_in", {"session_id": session_id})
        return issue_tokens(
            self.services.security,
            settings=settings,
            now=now,
            staff_id=current.id,
            session_id=session_id,
            session_expires_at=expires_at,
            must_change_password=current.must_change_password,
        )

    async def _audit(
        self, conn: AsyncConnection, actor: Actor, action: str, details: dict[str, Any]
    ) -> None:
        await record_event(
            conn,
            clock=self.services.clock,
            actor=actor,
            action=action,
            subject_type="staff",
            subject_id=self.staff_id,
            details=details,
        )


async def _dummy_hash(hasher: Hasher) -> str:
    """A hash with the configured parameters, verified for unknown emails (equal cost)."""
    cached = _dummy_hashes.get(hasher)
    if cached is None:
        cached = await hasher.hash("ewallet-no-such-staff-member")
        _dummy_hashes[hasher] = cached
    return cached


async def _refuse_unknown(
    services: Services, *, email: str, password: str, ip: str | None
) -> NoReturn:
    """Answer an unknown email exactly as a known one with a wrong password.

    Same argon2 work (a dummy hash with the configured parameters), same audited write,
    and the same lock after ``login_lock_threshold`` failures -- counted in the rate-limit
    store under a keyed digest of the address -- so neither the answer, nor its timing,
    nor a lock tells whether the email belongs to a staff member.
    """
    settings, security, limiter = services.settings, services.security, services.limiter
    digest = security.digest("staff-email:" + email)
    lock = unknown_email_lock(settings)
    # Counted before the check, per lock generation (read before the lock is tested; bumped
    # after the lock is set): a burst gets the same checks as a known account's.
    generation = str(await limiter.count(UNKNOWN_LOCKS, digest))
    running = await limiter.test(lock, digest)
    if running is not None:
        raise TooManyAttemptsError("the account is locked", retry_after=running.seconds)
    threshold = settings.login_lock_threshold
    failures = await limiter.add(UNKNOWN_FAILURES, digest, generation, ttl=UNKNOWN_FAILURES_TTL)
    if failures > threshold:
        running = await limiter.test(lock, digest)
        wait = running.seconds if running is not None else settings.login_lock_minutes * 60
        raise TooManyAttemptsError("the account is locked", retry_after=wait)
    if failures == threshold:
        await limiter.hit(lock, digest)
        await limiter.add(UNKNOWN_LOCKS, digest, ttl=UNKNOWN_FAILURES_TTL)
    await security.passwords.verify(await _dummy_hash(security.passwords), password)

    async def work(uow: UnitOfWork) -> None:
        # The digest, not the address: people type passwords into the email field.
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=Actor("anonymous", None, ip),
            action="staff.sign_in_failed",
            details={"reason": "unknown_email", "email_digest": digest, "failures": failures},
        )

    await run_unit(services.engine, work)
    raise InvalidCredentialsError(_WRONG)
