"""What closing an account reads and answers: the blockers and the closure's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Blocker(StrEnum):
    """One reason the account cannot close yet, as the ``blockers`` member names it."""

    BALANCE = "balance"  # posted money in the wallet: withdraw it first
    HELD_BALANCE = "held_balance"  # money reserved by a hold (a withdrawal, a review)
    CARDS = "cards"  # a bound card: unbind it first
    PENDING_TOPUPS = "pending_topups"
    PENDING_WITHDRAWALS = "pending_withdrawals"
    PENDING_BILL_PAYMENTS = "pending_bill_payments"
    PENDING_TRANSFERS = "pending_transfers"
    PENDING_PAYMENTS = "pending_payments"
    PENDING_COUNTER_DEPOSITS = "pending_counter_deposits"


@dataclass(frozen=True, slots=True)
class ClosureCheck:
    """Whether the account may close now; ``blockers`` in the order of :class:`Blocker`."""

    blockers: tuple[Blocker, ...]

    @property
    def may_close(self) -> bool:
        return not self.blockers


@dataclass(frozen=True, slots=True)
class ClosedAccountView:
    user_id: str
    closed_at: datetime
    erase_after: datetime
