"""Login protection: wrong passwords are counted per account; after
``login_lock_threshold`` of them the account's password sign-in locks for
``login_lock_minutes``.

Counting happens *before* the argon2 check: :func:`reserve_check` takes one attempt of the
budget under the account's row lock (SQLite: the write lock) and commits, and only then is
the password compared. The attempt that takes the last one of the budget turns the lock on
at once, so a burst of N parallel guesses gets exactly ``login_lock_threshold`` argon2
checks and every other one is refused (``too_many_attempts``) without a check -- the state
read before the check and the failure written after it can no longer disagree. Settling:
a wrong password is already counted (:func:`record_failure` only audits it, and reports
the lock when this check spent the last attempt); the right one, checked within the budget,
signs in and clears count and lock (:func:`clear_login_lock`) -- even when a parallel guess
reserved the last attempt meanwhile. A check whose process dies stays counted as wrong.
A lock that has run its course gives a fresh budget at the next reservation.

Designed so an attacker cannot lock the owner out for good:

* the lock is temporary, and attempts during it are refused without being counted, so it
  ends on time however hard someone keeps trying;
* it only stops *password* sign-in: an SMS-code sign-in (``login`` code) clears it, and so
  does a password reset (:func:`clear_login_lock`), both of which need the owner's phone.

No enumeration: phones without an account are locked exactly like accounts -- same threshold,
same duration, same answers, same reservation before the check -- with the count and the
lock kept in the rate-limit store instead of the ``users`` row. The count of an unknown
phone is kept per lock *generation* (bumped when its lock engages), so a served lock gives
a fresh budget without a reset that a parallel request could slip through. The progressive
delay reads the same counts, so its timing tells nothing either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit import Actor, record_event
from ewallet.identity import repository as users_repository
from ewallet.identity.runtime import Caller, DummyHash, LoginDelay
from ewallet.identity.throttles import (
    UNKNOWN_PHONE_FAILURES,
    UNKNOWN_PHONE_FAILURES_TTL,
    UNKNOWN_PHONE_LOCKS,
    unknown_phone_lock,
)
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.identity import User
from ewallet.services import Services


class LoginPacing(Protocol):
    """What password checks of this process share beyond :class:`Services`: the progressive
    delay after wrong passwords and the dummy hash an unknown phone is checked against.
    The app's :class:`~ewallet.identity.runtime.IdentityRuntime` is one."""

    @property
    def login_delay(self) -> LoginDelay: ...

    @property
    def dummy_hash(self) -> DummyHash: ...


@dataclass(frozen=True, slots=True)
class LoginCheck:
    """One reserved password check (or, ``locked_for`` set, the lock that refused it)."""

    user_id: str | None  # None: the phone has no (signable) account
    stored_hash: str | None  # the account's hash when the attempt was reserved
    failures: int  # wrong passwords before this one (for the progressive delay)
    last_attempt: bool  # this check took the budget's last attempt: the lock is on already
    locked_for: int | None = None  # refused: seconds left of the lock, nothing reserved


async def reserve_check(
    services: Services, *, caller: Caller, phone: str, user_id: str | None = None
) -> LoginCheck:
    """Take one attempt of the budget before a password is compared (see the module doc).

    The account is ``user_id``'s when given (a signed-in user proving the password), else
    the signable account of ``phone``, else the bare phone. While locked nothing is
    reserved: the refusal is audited and ``locked_for`` says how long is left.
    """
    threshold = services.settings.login_lock_threshold
    lock_for = timedelta(minutes=services.settings.login_lock_minutes)

    async def work(uow: UnitOfWork) -> LoginCheck | None:
        if user_id is not None:
            user = await users_repository.get_user(uow.session, user_id, for_update=True)
        else:
            user = await users_repository.find_by_phone(uow.session, phone, for_update=True)
        if user is None or not users_repository.is_signable(user):
            return None
        now = services.clock.now()
        if user.login_locked_until is not None:
            if user.login_locked_until > now:
                left = _seconds(user.login_locked_until - now)
                await _audit_refused(await uow.connection(), services, caller, user.id, phone)
                return LoginCheck(user.id, None, user.login_failures, False, locked_for=left)
            user.login_locked_until = None  # served: a fresh budget
            user.login_failures = 0
        before = user.login_failures
        user.login_failures = before + 1
        last = user.login_failures >= threshold
        if last:
            user.login_locked_until = now + lock_for
        user.updated_at = now
        return LoginCheck(user.id, user.login_password_hash, before, last)

    reserved = await run_unit(services.engine, work)
    if reserved is not None:
        return reserved
    return await _reserve_unknown(services, caller=caller, phone=phone)


async def _reserve_unknown(services: Services, *, caller: Caller, phone: str) -> LoginCheck:
    """The same reservation for a phone without an account, in the rate-limit store.

    Order matters across processes: the generation is read before the lock is tested, and
    whoever engages the lock sets it before bumping the generation, so a request racing
    the engagement either sees the lock or counts in the old, spent generation.
    """
    threshold = services.settings.login_lock_threshold
    lock = unknown_phone_lock(services.settings)
    generation = str(await services.limiter.count(UNKNOWN_PHONE_LOCKS, phone))
    running = await services.limiter.test(lock, phone)
    if running is None:
        count = await services.limiter.add(
            UNKNOWN_PHONE_FAILURES, phone, generation, ttl=UNKNOWN_PHONE_FAILURES_TTL
        )
        if count <= threshold:
            last = count == threshold
            if last:
                await services.limiter.hit(lock, phone)
                await services.limiter.add(
                    UNKNOWN_PHONE_LOCKS, phone, ttl=UNKNOWN_PHONE_FAILURES_TTL
                )
            return LoginCheck(None, None, count - 1, last)
        running = await services.limiter.test(
            lock, phone
        )  # the last attempt went to a parallel one
    left = running.seconds if running is not None else services.settings.login_lock_minutes * 60

    async def work(uow: UnitOfWork) -> None:
        await _audit_refused(await uow.connection(), services, caller, None, phone)

    await run_unit(services.engine, work)
    return LoginCheck(None, None, threshold, False, locked_for=left)


async def record_failure(
    services: Services, *, caller: Caller, check: LoginCheck, phone: str, reason: str
) -> int | None:
    """Audit a wrong password whose attempt :func:`reserve_check` already counted.

    Returns the lock's length in seconds when this check took the budget's last attempt
    (and the lock is still on: a right password checked in parallel may have lifted it),
    else None. Audit-logs the failure and, if any, the lock.
    """
    lock_seconds = services.settings.login_lock_minutes * 60

    async def work(uow: UnitOfWork) -> int | None:
        conn = await uow.connection()
        locked_now = check.last_attempt
        if check.user_id is not None and locked_now:
            user = await users_repository.get_user(uow.session, check.user_id)
            now = services.clock.now()
            locked_now = (
                user is not None
                and user.login_locked_until is not None
                and user.login_locked_until > now
            )
        await _audit_failure(
            conn,
            services,
            caller=caller,
            user_id=check.user_id,
            phone=phone,
            reason=reason,
            locked=locked_now,
        )
        return lock_seconds if locked_now else None

    return await run_unit(services.engine, work)


async def record_success(services: Services, *, check: LoginCheck) -> None:
    """Settle a right password in a unit of its own: count and lock cleared."""
    if check.user_id is None:
        return
    user_id = check.user_id

    async def work(uow: UnitOfWork) -> None:
        user = await users_repository.get_user(uow.session, user_id, for_update=True)
        if user is not None:
            clear_login_lock(user)
            user.updated_at = services.clock.now()

    await run_unit(services.engine, work)


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


async def _audit_failure(
    conn: AsyncConnection,
    services: Services,
    *,
    caller: Caller,
    user_id: str | None,
    phone: str,
    reason: str,
    locked: bool,
) -> None:
    # A phone without an account is named by its keyed digest: no number in the audit log.
    details = (
        {"reason": reason} if user_id else {"reason": reason, "phone": _digest(services, phone)}
    )
    actor = Actor("anonymous", None, caller.ip)
    await record_event(
        conn,
        clock=services.clock,
        actor=actor,
        action="auth.sign_in_failed",
        subject_type="user" if user_id else None,
        subject_id=user_id,
        details=details,
    )
    if locked:
        await record_event(
            conn,
            clock=services.clock,
            actor=actor,
            action="auth.login_locked",
            subject_type="user" if user_id else None,
            subject_id=user_id,
            details={**details, "minutes": services.settings.login_lock_minutes},
        )


async def _audit_refused(
    conn: AsyncConnection, services: Services, caller: Caller, user_id: str | None, phone: str
) -> None:
    """Audit an attempt the lock turned away (not counted: the lock must end on time)."""
    await record_event(
        conn,
        clock=services.clock,
        actor=Actor("anonymous", None, caller.ip),
        action="auth.sign_in_refused_locked",
        subject_type="user" if user_id else None,
        subject_id=user_id,
        details={} if user_id else {"phone": _digest(services, phone)},
    )


def clear_login_lock(user: User) -> None:
    """Forget wrong passwords and lift the lock (after the owner proved their phone).

    For a password reset: call it on the user loaded in the reset's unit of work.
    """
    user.login_failures = 0
    user.login_locked_until = None


def _digest(services: Services, phone: str) -> str:
    return services.security.digest(f"phone:{phone}")[:32]
