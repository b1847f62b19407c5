"""The budget of failed payment-code look-ups per merchant key and per terminal.

A merchant key can send any digits as a payment code; without a bound it could try codes
until one pays. So each *subject* -- the merchant's key, and the terminal when the charge
names one (``terminal_id``) -- may fail a budget of look-ups within
``EWALLET_PAYMENT_CODE_FAILURE_WINDOW_SECONDS`` (300): ``EWALLET_PAYMENT_CODE_FAILURES_PER_KEY``
(10) for the key, ``EWALLET_PAYMENT_CODE_FAILURES_PER_TERMINAL`` (10) for a terminal; every
failure counts against both. The failure that spends a budget starts a cool-down of
``EWALLET_PAYMENT_CODE_COOLDOWN_SECONDS`` (900): until it ends, every charge with a code
from that subject answers ``429 too_many_attempts`` with ``retry_after`` -- a valid code
too, or the cool-down would still tell valid codes from invalid ones. Starting a cool-down
writes an audit event (``payment_code.guessing_locked``) and a risk alert
(``payment_code_guessing``) in the same transaction.

Exact under parallel requests: the look-up unit locks the subjects' ``payment_code_guards``
rows (``FOR UPDATE`` on PostgreSQL, the write lock of ``BEGIN IMMEDIATE`` on SQLite) before
it checks the budget, looks the code up, and counts a failure before it commits. Look-ups of
one merchant therefore take turns (a millisecond or two each), and a burst of any size gets
exactly the budget: no look-up runs once it is spent. Rows are made on a subject's first
look-up and locked in ascending subject order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, record_event
from ewallet.config import Settings
from ewallet.identity.errors import TooManyAttemptsError
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.tables import payment_code_guards as guards
from ewallet.risk.alerts import raise_alert


@dataclass(frozen=True, slots=True)
class GuessPolicy:
    per_key: int
    per_terminal: int
    window: timedelta
    cooldown: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> GuessPolicy:
        return cls(
            per_key=settings.payment_code_failures_per_key,
            per_terminal=settings.payment_code_failures_per_terminal,
            window=timedelta(seconds=settings.payment_code_failure_window_seconds),
            cooldown=timedelta(seconds=settings.payment_code_cooldown_seconds),
        )

    def budget(self, subject_key: str) -> int:
        return self.per_terminal if subject_key.startswith("terminal:") else self.per_key


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose budget a look-up spends: the merchant's key, or one of its terminals."""

    key: str  # the row's primary key
    kind: str  # "key" or "terminal"
    terminal_id: str | None = None


def subjects_of(merchant_id: str, terminal_id: str | None) -> tuple[Subject, ...]:
    """The budgets a charge spends, in lock order (ascending key)."""
    found = [Subject(f"key:{merchant_id}", "key")]
    if terminal_id is not None:
        found.append(Subject(f"terminal:{merchant_id}:{terminal_id}", "terminal", terminal_id))
    return tuple(sorted(found, key=lambda subject: subject.key))


def _current(row: Any, now: datetime, policy: GuessPolicy) -> tuple[int, datetime]:
    """Failures counted now and their window's start: a window that ran out, or whose
    cool-down is over, starts afresh."""
    lock_over = row.locked_until is not None and row.locked_until <= now
    if lock_over or row.window_started_at <= now - policy.window:
        return 0, now
    return int(row.failures), row.window_started_at


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


async def _locked_rows(conn: AsyncConnection, subjects: Sequence[Subject]) -> list[Any]:
    statement = (
        select(guards)
        .where(guards.c.subject.in_([subject.key for subject in subjects]))
        .order_by(guards.c.subject)
        .with_for_update()
    )
    return list(await conn.execute(statement))


async def _make_rows(
    conn: AsyncConnection, merchant_id: str, subjects: Sequence[Subject], now: datetime
) -> None:
    dialect_insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    await conn.execute(
        dialect_insert(guards)
        .values(
            [
                {
                    "subject": subject.key,
                    "merchant_id": merchant_id,
                    "window_started_at": now,
                    "failures": 0,
                    "locked_until": None,
                }
                for subject in subjects
            ]
        )
        .on_conflict_do_nothing(index_elements=["subject"])
    )


async def hold_budgets(
    uow: UnitOfWork,
    *,
    merchant_id: str,
    subjects: Sequence[Subject],
    now: datetime,
    policy: GuessPolicy,
) -> list[Any]:
    """Lock the subjects' rows for this unit; refuse if any is cooling down or spent.

    Call it in the look-up unit right before the code is looked up, and pass what it
    returns to :func:`count_failure` if the code is not valid."""
    conn = await uow.connection()
    rows = await _locked_rows(conn, subjects)
    if len(rows) < len(subjects):  # a subject's first look-up
        await _make_rows(conn, merchant_id, subjects, now)
        rows = await _locked_rows(conn, subjects)
    waits = []
    for row in rows:
        if row.locked_until is not None and row.locked_until > now:
            waits.append(row.locked_until - now)
        elif _current(row, now, policy)[0] >= policy.budget(row.subject):  # lowered since
            waits.append(policy.window)
    if waits:
        raise TooManyAttemptsError(
            "too many unknown payment codes from this merchant key or terminal; "
            "charges with codes are paused",
            retry_after=_seconds(max(waits)),
        )
    return rows


async def count_failure(
    uow: UnitOfWork,
    *,
    clock: Clock,
    merchant_id: str,
    subjects: Sequence[Subject],
    rows: Sequence[Any],
    now: datetime,
    policy: GuessPolicy,
) -> None:
    """Count a failed look-up against every subject (rows held by :func:`hold_budgets`);
    the one that spends a budget starts its cool-down, audited and alerted."""
    conn = await uow.connection()
    by_key = {subject.key: subject for subject in subjects}
    for row in rows:
        failures, started = _current(row, now, policy)
        failures += 1
        spent = failures >= policy.budget(row.subject)
        locked_until = now + policy.cooldown if spent else None
        await conn.execute(
            update(guards)
            .where(guards.c.subject == row.subject)
            .values(failures=failures, window_started_at=started, locked_until=locked_until)
        )
        if locked_until is None:
            continue
        subject = by_key[row.subject]
        details: dict[str, Any] = {
            "budget": subject.kind,
            "failures": failures,
            "window_seconds": int(policy.window.total_seconds()),
            "locked_until": locked_until.isoformat(),
        }
        if subject.terminal_id is not None:
            details["terminal_id"] = subject.terminal_id
        await record_event(
            conn,
            clock=clock,
            actor=Actor("merchant", merchant_id),
            action="payment_code.guessing_locked",
            subject_type="merchant",
            subject_id=merchant_id,
            details=details,
        )
        await raise_alert(
            uow,
            clock=clock,
            kind="payment_code_guessing",
            subject_type="merchant",
            subject_id=merchant_id,
            details=details,
        )
