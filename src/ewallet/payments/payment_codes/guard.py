"""The budget of failed payment-code look-ups per merchant key and per terminal (the rules;
the service applies them to the ``payment_code_guards`` rows).

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

from ewallet.config import Settings
from ewallet.identity.errors import TooManyAttemptsError


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


@dataclass(frozen=True, slots=True)
class GuardState:
    """A subject's ``payment_code_guards`` row."""

    subject: str
    window_started_at: datetime
    failures: int
    locked_until: datetime | None


def subjects_of(merchant_id: str, terminal_id: str | None) -> tuple[Subject, ...]:
    """The budgets a charge spends, in lock order (ascending key)."""
    found = [Subject(f"key:{merchant_id}", "key")]
    if terminal_id is not None:
        found.append(Subject(f"terminal:{merchant_id}:{terminal_id}", "terminal", terminal_id))
    return tuple(sorted(found, key=lambda subject: subject.key))


def current_window(state: GuardState, now: datetime, policy: GuessPolicy) -> tuple[int, datetime]:
    """Failures counted now and their window's start: a window that ran out, or whose
    cool-down is over, starts afresh."""
    lock_over = state.locked_until is not None and state.locked_until <= now
    if lock_over or state.window_started_at <= now - policy.window:
        return 0, now
    return state.failures, state.window_started_at


def check_budgets(states: Sequence[GuardState], now: datetime, policy: GuessPolicy) -> None:
    """``too_many_attempts`` (``retry_after``: the longest wait) if any subject is cooling
    down or has spent its budget (a budget lowered since counts as spent)."""
    waits = []
    for state in states:
        if state.locked_until is not None and state.locked_until > now:
            waits.append(state.locked_until - now)
        elif current_window(state, now, policy)[0] >= policy.budget(state.subject):
            waits.append(policy.window)
    if waits:
        raise TooManyAttemptsError(
            "too many unknown payment codes from this merchant key or terminal; "
            "charges with codes are paused",
            retry_after=max(1, math.ceil(max(waits).total_seconds())),
        )
