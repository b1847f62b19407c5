"""The guessing budgets applied: each charge's look-up unit holds the budgets' rows
(:func:`hold_budgets`) and counts a failure on them (:func:`count_failure`); the rules and
the numbers are :mod:`ewallet.payments.payment_codes.guard`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.payments.payment_codes import repository
from ewallet.payments.payment_codes.guard import (
    GuardState,
    GuessPolicy,
    Subject,
    check_budgets,
    current_window,
)
from ewallet.risk.alerts import raise_alert


async def hold_budgets(
    uow: UnitOfWork,
    *,
    merchant_id: str,
    subjects: Sequence[Subject],
    now: datetime,
    policy: GuessPolicy,
) -> list[GuardState]:
    """Lock the subjects' rows for this unit (made on a subject's first look-up); refuse
    (``too_many_attempts``) if any is cooling down or spent. Call it in the look-up unit
    right before the code is looked up, and pass what it returns to
    :func:`count_failure` if the code is not valid."""
    conn = await uow.connection()
    keys = [subject.key for subject in subjects]
    states = await repository.locked_guards(conn, keys)
    if len(states) < len(subjects):  # a subject's first look-up
        await repository.make_guards(conn, merchant_id=merchant_id, subject_keys=keys, now=now)
        states = await repository.locked_guards(conn, keys)
    check_budgets(states, now, policy)
    return states


async def count_failure(
    uow: UnitOfWork,
    *,
    clock: Clock,
    merchant_id: str,
    subjects: Sequence[Subject],
    states: Sequence[GuardState],
    now: datetime,
    policy: GuessPolicy,
) -> None:
    """Count a failed look-up against every subject (rows held by :func:`hold_budgets`);
    the one that spends a budget starts its cool-down, audited and alerted."""
    conn = await uow.connection()
    by_key = {subject.key: subject for subject in subjects}
    for state in states:
        failures, started = current_window(state, now, policy)
        failures += 1
        spent = failures >= policy.budget(state.subject)
        locked_until = now + policy.cooldown if spent else None
        await repository.set_guard(
            conn,
            subject=state.subject,
            failures=failures,
            window_started_at=started,
            locked_until=locked_until,
        )
        if locked_until is None:
            continue
        subject = by_key[state.subject]
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
