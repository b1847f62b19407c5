"""What the spend seam and the review queue read of a held movement's review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ewallet.kit.money import Money
from ewallet.models.risk import ReviewState


@dataclass(frozen=True, slots=True)
class ReviewView:
    """One review: the movement it holds (``channel``, ``reference``, ``subject_id`` -- the
    feature's own id, ``trf_…``), the ledger hold keeping its money, and its decision.

    ``payer_phone_masked`` is the spender's phone as staff lists show it (``138****0001``).
    """

    id: str
    decision_id: str
    user_id: str
    payer_phone_masked: str
    channel: str  # a SpendChannel value
    reference: str
    subject_id: str
    amount: Money
    hold_id: str
    state: ReviewState
    created_at: datetime
    due_at: datetime
    decided_at: datetime | None
    decided_by: str | None  # the staff member's id
    note: str | None

    @property
    def is_open(self) -> bool:
        return self.state is ReviewState.OPEN

    def age_at(self, now: datetime) -> timedelta:
        """How long the movement has waited (until ``now``, or until it was decided)."""
        return (self.decided_at or now) - self.created_at

    def overdue_at(self, now: datetime) -> bool:
        """Still open past its SLA (``due_at``) at ``now``."""
        return self.is_open and now >= self.due_at
