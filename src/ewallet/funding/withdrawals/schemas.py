"""Withdrawal requests and responses: amounts as decimal strings with a currency (API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ewallet.funding.withdrawals.fees import FeeQuote
from ewallet.funding.withdrawals.views import WithdrawalView
from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel


class WithdrawalPreviewIn(RequestModel):
    card_id: str = Field(max_length=32)
    # Any JSON value: a number or a malformed string is ``invalid_amount``, not a 422 here.
    amount: AmountIn = None


class WithdrawalIn(WithdrawalPreviewIn):
    payment_password: str = Field(max_length=64)
    # The step-up passed after a ``step_up_required`` answer to this withdrawal.
    challenge_id: str | None = Field(default=None, max_length=64)


class WithdrawalPreviewOut(BaseModel):
    """What confirming would cost now: shown to the user before the payment password."""

    amount: AmountOut
    fee: AmountOut
    total: AmountOut
    free_quota_remaining: AmountOut

    @classmethod
    def of(cls, quote: FeeQuote) -> WithdrawalPreviewOut:
        return cls(
            amount=AmountOut.of(quote.amount),
            fee=AmountOut.of(quote.fee),
            total=AmountOut.of(quote.total),
            free_quota_remaining=AmountOut.of(quote.free_quota_remaining),
        )


class WithdrawalOut(BaseModel):
    id: str
    card_id: str
    amount: AmountOut
    fee: AmountOut
    total: AmountOut
    status: str
    bank_reference: str | None
    created_at: datetime
    completed_at: datetime | None
    # Held for review: when risk control's decision is due (docs/risk-review.md); else null.
    review_due_at: datetime | None = None

    @classmethod
    def of(cls, withdrawal: WithdrawalView) -> WithdrawalOut:
        return cls(
            id=withdrawal.id,
            card_id=withdrawal.card_id,
            amount=AmountOut.of(withdrawal.amount),
            fee=AmountOut.of(withdrawal.fee),
            total=AmountOut.of(withdrawal.total),
            status=withdrawal.status,
            bank_reference=withdrawal.bank_reference,
            created_at=withdrawal.created_at,
            completed_at=withdrawal.completed_at,
            review_due_at=withdrawal.review_due_at,
        )


class WithdrawalEnvelope(BaseModel):
    withdrawal: WithdrawalOut


class WithdrawalPendingOut(WithdrawalEnvelope):
    """202: ``operation_pending`` -- the bank's answer is unknown; the money stays held
    until it is settled -- or ``under_review``: risk control holds the withdrawal (amount
    and fee held, the bank not asked) until a risk officer decides, by ``review_due_at``."""

    code: Literal["operation_pending", "under_review"] = "operation_pending"
