"""The review queue's requests and answers (docs/risk-review.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.history.schemas import TransactionOut
from ewallet.kit.amounts import AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.reviews.service import NOTE_MAX_LENGTH
from ewallet.reviews.views import ReviewDetail, ReviewView
from ewallet.risk.rules.schemas import DecisionExplained, DecisionOut


class DecisionNoteIn(RequestModel):
    """Why the risk officer approves or rejects: required, kept in the audit log."""

    note: str = Field(min_length=1, max_length=NOTE_MAX_LENGTH)


class ReviewOut(BaseModel):
    id: str
    state: str  # open, approved, rejected
    channel: str  # transfer, ...
    subject_id: str  # the movement's own id (trf_…)
    reference: str
    user_id: str
    payer_phone_masked: str
    amount: AmountOut
    decision_id: str
    created_at: datetime
    due_at: datetime  # created_at + EWALLET_RISK_REVIEW_SLA_MINUTES
    age_seconds: int  # waited so far (until decided)
    overdue: bool  # still open past due_at
    decided_at: datetime | None
    decided_by: str | None
    note: str | None

    @classmethod
    def of(cls, review: ReviewView, *, now: datetime) -> ReviewOut:
        return cls(
            id=review.id,
            state=review.state.value,
            channel=review.channel,
            subject_id=review.subject_id,
            reference=review.reference,
            user_id=review.user_id,
            payer_phone_masked=review.payer_phone_masked,
            amount=AmountOut.of(review.amount),
            decision_id=review.decision_id,
            created_at=review.created_at,
            due_at=review.due_at,
            age_seconds=int(review.age_at(now).total_seconds()),
            overdue=review.overdue_at(now),
            decided_at=review.decided_at,
            decided_by=review.decided_by,
            note=review.note,
        )


class ReviewPageOut(BaseModel):
    items: list[ReviewOut]
    next_cursor: str | None


class ReviewEnvelope(BaseModel):
    review: ReviewOut


class RecentActivityOut(BaseModel):
    transactions: list[TransactionOut]
    decisions: list[DecisionOut]


class ReviewDetailOut(BaseModel):
    review: ReviewOut
    decision: DecisionExplained
    recent: RecentActivityOut

    @classmethod
    def of(cls, detail: ReviewDetail) -> ReviewDetailOut:
        return cls(
            review=ReviewOut.of(detail.review, now=detail.as_of),
            decision=DecisionExplained.explain(detail.decision),
            recent=RecentActivityOut(
                transactions=[TransactionOut.of(entry) for entry in detail.recent.transactions],
                decisions=[DecisionOut.of(view) for view in detail.recent.decisions],
            ),
        )
