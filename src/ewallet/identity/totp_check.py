"""Check a TOTP code (RFC 6238, 30 s steps, ±1 step) without ever accepting one twice, and
bound the wrong ones per account.

The accepted step is stored (``users.totp_last_step``); a code of that step or an earlier
one is refused, so a code seen over someone's shoulder is useless once it was used.

A challenge allows only a few tries, but a new one comes with every password sign-in, so
the bound that matters is the account's (:class:`TotpBound`): ``totp_max_failures`` wrong
authenticator or recovery codes within ``totp_failure_window_minutes`` -- wherever they
were typed: sign-in or action step-up, turning the authenticator off -- lock both for
``totp_lock_minutes``. While locked, every code, the right one too, is refused with
``429 too_many_attempts`` and ``retry_after``, uncounted and unchecked. The wrong code that
spends the budget locks, tells the owner (in-app and SMS, notice ``totp_locked``) and
is audited (``totp.locked``); every wrong code is audited too (``totp.failed``, or
``totp.disable_failed``), and the audit log is the counter -- failures since the last lock
within the window -- so the bound holds across processes and needs no table of its own.
Callers check and count under the user's row lock (:func:`check_bounded`), so parallel
codes are counted one after the other.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import pyotp
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.config import Settings
from ewallet.identity.errors import TooManyAttemptsError
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.identity import User
from ewallet.models.tables import audit_events, users
from ewallet.notify.service import notify_user
from ewallet.security.crypto import FieldCipher

STEP_SECONDS = 30
WINDOW = 1  # steps either side of now
TOTP_FAILED: Final = "totp.failed"
TOTP_LOCKED: Final = "totp.locked"
DISABLE_FAILED: Final = "totp.disable_failed"
# Every audit action that records a wrong authenticator or recovery code of a customer.
FAILURE_ACTIONS: Final = (TOTP_FAILED, DISABLE_FAILED)


def matching_step(secret: str, code: str, now_seconds: int) -> int | None:
    """The time step whose code equals ``code`` within the window, newest first."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = now_seconds // STEP_SECONDS
    for step in (current + 1, current, current - 1)[: 2 * WINDOW + 1]:
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


async def verify_user_totp(
    conn: AsyncConnection, *, clock: Clock, cipher: FieldCipher, user_id: str, code: str
) -> bool:
    """True and the step recorded if ``code`` is a fresh valid code of the user's TOTP."""
    row = (
        await conn.execute(
            select(users.c.totp_secret_encrypted, users.c.totp_enabled_at, users.c.totp_last_step)
            .where(users.c.id == user_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE (kit/db/locking.py)
        )
    ).first()
    if row is None or row.totp_secret_encrypted is None or row.totp_enabled_at is None:
        return False
    secret = cipher.decrypt(row.totp_secret_encrypted, context=f"totp:{user_id}")
    step = matching_step(secret, code, int(clock.now().timestamp()))
    if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
        return False
    await conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))
    return True


@dataclass(frozen=True, slots=True)
class TotpBound:
    """Wrong codes allowed per account (``max_failures`` within ``window``), and the lock."""

    max_failures: int
    window: timedelta
    lock_for: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> TotpBound:
        return cls(
            max_failures=settings.totp_max_failures,
            window=timedelta(minutes=settings.totp_failure_window_minutes),
            lock_for=timedelta(minutes=settings.totp_lock_minutes),
        )


def _locked(until: datetime, now: datetime) -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many wrong authenticator codes; try again later",
        retry_after=max(1, math.ceil((until - now).total_seconds())),
    )


async def failures_left(
    conn: AsyncConnection, *, clock: Clock, bound: TotpBound, user_id: str
) -> int:
    """Wrong codes the account may still make; raises ``too_many_attempts`` while locked.

    Call under the user's row lock, before the code is checked.
    """
    now = clock.now()
    subject = audit_events.c.subject_id == user_id
    last_lock = (
        await conn.execute(
            select(audit_events.c.id, audit_events.c.occurred_at)
            .where(subject, audit_events.c.action == TOTP_LOCKED)
            .order_by(audit_events.c.id.desc())
            .limit(1)
        )
    ).first()
    counted = [
        subject,
        audit_events.c.action.in_(FAILURE_ACTIONS),
        audit_events.c.occurred_at > now - bound.window,
    ]
    if last_lock is not None:
        until = last_lock.occurred_at + bound.lock_for
        if until > now:
            raise _locked(until, now)
        counted.append(audit_events.c.id > last_lock.id)  # a served lock: a fresh budget
    failures = await conn.scalar(select(func.count()).select_from(audit_events).where(*counted))
    return max(0, bound.max_failures - int(failures or 0))


async def count_failure(
    uow: UnitOfWork,
    *,
    clock: Clock,
    bound: TotpBound,
    user: User,
    actor: Actor,
    left: int,
    action: str = TOTP_FAILED,
    details: dict[str, Any] | None = None,
) -> TooManyAttemptsError | None:
    """Record a wrong code (``left``: what :func:`failures_left` said before the check).

    The one that spends the budget locks codes, tells the owner and returns the lock's
    refusal (to raise once the unit commits); else None.
    """
    conn = await uow.connection()
    subject: dict[str, Any] = {"subject_type": "user", "subject_id": user.id}
    await record_event(conn, clock=clock, actor=actor, action=action, details=details, **subject)
    if left > 1:
        return None
    now = clock.now()
    until = now + bound.lock_for
    await notify_user(
        uow.session,
        clock=clock,
        user=user,
        kind="totp_locked",
        params={"until": until.isoformat(timespec="minutes")},
    )
    spent = {"failures": bound.max_failures, "until": until.isoformat()}
    await record_event(conn, clock=clock, actor=actor, action=TOTP_LOCKED, details=spent, **subject)
    return _locked(until, now)


@dataclass(frozen=True, slots=True)
class Checked:
    """What a bounded check found: ``ok``; else the codes the account has left (0: it just
    locked, ``locked`` is the refusal to raise once the failure is committed)."""

    ok: bool
    left: int
    locked: TooManyAttemptsError | None = None


async def check_bounded(
    uow: UnitOfWork,
    *,
    clock: Clock,
    bound: TotpBound,
    user: User,
    actor: Actor,
    check: Callable[[AsyncConnection], Awaitable[bool]],
    action: str = TOTP_FAILED,
    details: dict[str, Any] | None = None,
) -> Checked:
    """Run ``check`` (a TOTP or recovery code) within the account's bound.

    ``user`` must be locked in this unit (``FOR UPDATE``) so parallel codes queue. Raises
    ``too_many_attempts`` while locked, before the code is looked at.
    """
    conn = await uow.connection()
    left = await failures_left(conn, clock=clock, bound=bound, user_id=user.id)
    if await check(conn):
        return Checked(ok=True, left=left)
    locked = await count_failure(
        uow,
        clock=clock,
        bound=bound,
        user=user,
        actor=actor,
        left=left,
        action=action,
        details=details,
    )
    return Checked(ok=False, left=left - 1, locked=locked)
