"""Login protection: wrong passwords are counted per account; after
``login_lock_threshold`` of them the account's password sign-in locks for
``login_lock_minutes``.

Designed so an attacker cannot lock the owner out for good:

* the lock is temporary, and attempts during it are refused without being counted, so it
  ends on time however hard someone keeps trying;
* it only stops *password* sign-in: an SMS-code sign-in (``login`` code) clears it, and so
  does a password reset (:func:`clear_login_lock`), both of which need the owner's phone.

No enumeration: phones without an account are locked exactly like accounts -- same threshold,
same duration, same answers -- with the count and the lock kept in the rate-limit store
instead of the ``users`` row. The progressive delay reads the same counts, so its timing
tells nothing either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit import Actor, record_event
from ewallet.identity import users_repository
from ewallet.identity.runtime import Caller, IdentityRuntime
from ewallet.identity.throttles import (
    UNKNOWN_PHONE_FAILURES,
    UNKNOWN_PHONE_FAILURES_TTL,
    unknown_phone_lock,
)
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.identity import User


@dataclass(frozen=True, slots=True)
class LoginState:
    """What the guard knows before a password is checked."""

    failures: int
    locked_for: int | None  # seconds left of a lock, or None


async def login_state(rt: IdentityRuntime, *, user: User | None, phone: str) -> LoginState:
    """Failures so far and any running lock, for an account (``user``) or a bare phone."""
    if user is None:
        lock = await rt.limiter.test(unknown_phone_lock(rt.settings), phone)
        failures = await rt.limiter.count(UNKNOWN_PHONE_FAILURES, phone)
        return LoginState(failures=failures, locked_for=lock.seconds if lock else None)
    now = rt.clock.now()
    locked_until = user.login_locked_until
    if locked_until is not None and locked_until > now:
        return LoginState(user.login_failures, math.ceil((locked_until - now).total_seconds()))
    return LoginState(failures=user.login_failures, locked_for=None)


async def record_failure(
    rt: IdentityRuntime, *, caller: Caller, user_id: str | None, phone: str, reason: str
) -> int | None:
    """Count a wrong password in its own transaction (the sign-in itself fails).

    Returns the lock's length in seconds when this failure locked the account, else None.
    Audit-logs the failure and, if any, the lock.
    """
    lock_seconds = rt.settings.login_lock_minutes * 60
    emulated_lock = False
    if user_id is None:
        failures = await rt.limiter.add(
            UNKNOWN_PHONE_FAILURES, phone, ttl=UNKNOWN_PHONE_FAILURES_TTL
        )
        emulated_lock = failures >= rt.settings.login_lock_threshold
        if emulated_lock:
            await rt.limiter.hit(unknown_phone_lock(rt.settings), phone)
            await rt.limiter.reset(UNKNOWN_PHONE_FAILURES, phone)

    async def work(uow: UnitOfWork) -> int | None:
        conn = await uow.connection()
        if user_id is None:
            locked_now = emulated_lock
        else:
            user = await users_repository.get_user(uow.session, user_id, for_update=True)
            assert user is not None
            locked_now = _count_on_account(rt, user)
            await uow.session.flush()
        await _audit_failure(
            conn, rt, caller=caller, user_id=user_id, phone=phone, reason=reason, locked=locked_now
        )
        return lock_seconds if locked_now else None

    return await run_unit(rt.engine, work)


def _count_on_account(rt: IdentityRuntime, user: User) -> bool:
    now = rt.clock.now()
    user.login_failures += 1
    user.updated_at = now
    if user.login_failures < rt.settings.login_lock_threshold:
        return False
    user.login_failures = 0
    user.login_locked_until = now + timedelta(minutes=rt.settings.login_lock_minutes)
    return True


async def _audit_failure(
    conn: AsyncConnection,
    rt: IdentityRuntime,
    *,
    caller: Caller,
    user_id: str | None,
    phone: str,
    reason: str,
    locked: bool,
) -> None:
    # A phone without an account is named by its keyed digest: no number in the audit log.
    details = {"reason": reason} if user_id else {"reason": reason, "phone": _digest(rt, phone)}
    actor = Actor("anonymous", None, caller.ip)
    await record_event(
        conn,
        clock=rt.clock,
        actor=actor,
        action="auth.sign_in_failed",
        subject_type="user" if user_id else None,
        subject_id=user_id,
        details=details,
    )
    if locked:
        await record_event(
            conn,
            clock=rt.clock,
            actor=actor,
            action="auth.login_locked",
            subject_type="user" if user_id else None,
            subject_id=user_id,
            details={**details, "minutes": rt.settings.login_lock_minutes},
        )


async def record_refused_while_locked(
    rt: IdentityRuntime, *, caller: Caller, user_id: str | None, phone: str
) -> None:
    """Audit an attempt the lock turned away (not counted: the lock must end on time)."""

    async def work(uow: UnitOfWork) -> None:
        await record_event(
            await uow.connection(),
            clock=rt.clock,
            actor=Actor("anonymous", None, caller.ip),
            action="auth.sign_in_refused_locked",
            subject_type="user" if user_id else None,
            subject_id=user_id,
            details={} if user_id else {"phone": _digest(rt, phone)},
        )

    await run_unit(rt.engine, work)


def clear_login_lock(user: User) -> None:
    """Forget wrong passwords and lift the lock (after the owner proved their phone).

    For a password reset: call it on the user loaded in the reset's unit of work.
    """
    user.login_failures = 0
    user.login_locked_until = None


def _digest(rt: IdentityRuntime, phone: str) -> str:
    return rt.security.digest(f"phone:{phone}")[:32]
