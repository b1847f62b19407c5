"""Requests and responses of the merchant API's refunds (API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.payments.schemas import MerchantNumber, OrderOut
from ewallet.payments.views import RefundView


class RefundIn(RequestModel):
    amount: AmountIn = None
    out_refund_no: MerchantNumber


class RefundOut(BaseModel):
    id: str
    order_id: str
    payment_id: str
    out_refund_no: str
    amount: AmountOut
    fee_returned: AmountOut = Field(description="the part of the payment's fee it returned")
    status: str
    created_at: datetime

    @classmethod
    def of(cls, view: RefundView) -> RefundOut:
        return cls(
            id=view.id,
            order_id=view.order_id,
            payment_id=view.payment_id,
            out_refund_no=view.out_refund_no,
            amount=AmountOut.of(view.amount),
            fee_returned=AmountOut.of(view.fee_returned),
            status=view.status,
            created_at=view.created_at,
        )


def refund_document(view: RefundView) -> dict[str, Any]:
    """The refund as JSON values, for webhook bodies (the same shape the API answers)."""
    return RefundOut.of(view).model_dump(mode="json")


class RefundEnvelope(BaseModel):
    refund: RefundOut
    order: OrderOut


class RefundPage(BaseModel):
    """``GET /v1/merchant/refunds``: newest first, cursor-paginated."""

    items: list[RefundOut]
    next_cursor: str | None
