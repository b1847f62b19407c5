"""Top-up requests and responses: amounts as decimal strings with a currency (API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ewallet.funding.topups.views import TopupView
from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel


class TopupIn(RequestModel):
    method: Literal["card", "alipay", "wechat_pay"]
    # Any JSON value: a number or a malformed string is ``invalid_amount``, not a 422 here.
    amount: AmountIn = None
    card_id: str | None = Field(default=None, max_length=32)
    payment_password: str | None = Field(default=None, max_length=64)


class TopupOut(BaseModel):
    id: str
    method: str
    amount: AmountOut
    status: str
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, topup: TopupView) -> TopupOut:
        return cls(
            id=topup.id,
            method=topup.method,
            amount=AmountOut.of(topup.amount),
            status=topup.status,
            created_at=topup.created_at,
            completed_at=topup.completed_at,
        )


class TopupEnvelope(BaseModel):
    topup: TopupOut


class TopupStartedOut(TopupEnvelope):
    pay_url: str | None
    qr_code: str | None


class CardTopupPendingOut(TopupEnvelope):
    """``202``: the bank's answer was unclear; the top-up settles later (and notifies)."""

    code: Literal["operation_pending"] = "operation_pending"
