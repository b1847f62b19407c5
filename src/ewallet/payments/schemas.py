"""Requests and responses of ``/v1/payments``, the order and payment shapes every payments
answer shares (API.md), and the merchant API's amount parsing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.amounts import parse_amount as parse_wallet_amount
from ewallet.kit.money import Money
from ewallet.kit.request_model import RequestModel
from ewallet.payments.errors import require_wallet_currency
from ewallet.payments.views import OrderView, PaymentView

# Merchant-side numbers: printable ASCII without spaces, as merchants' systems produce them.
MerchantNumber = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


def parse_amount(value: AmountIn, currency: str = "CNY") -> Money:
    """The amount of a merchant request: a currency no wallet holds first
    (``currency_not_supported``), then the amount's form (``invalid_amount``)."""
    require_wallet_currency(currency)
    return parse_wallet_amount(value, currency)


class OrderOut(BaseModel):
    id: str
    out_trade_no: str
    amount: AmountOut
    subject: str
    status: str
    payment_id: str | None
    refunded: AmountOut
    fee: AmountOut = Field(description="the merchant's fee on the payment, less refunds' share")
    net: AmountOut = Field(description="what the merchant keeps: paid - refunded - fee")
    notify_url: str | None
    expires_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: OrderView) -> OrderOut:
        return cls(
            id=view.id,
            out_trade_no=view.out_trade_no,
            amount=AmountOut.of(view.amount),
            subject=view.subject,
            status=view.status,
            payment_id=view.payment_id,
            refunded=AmountOut.of(view.refunded),
            fee=AmountOut.of(view.fee),
            net=AmountOut.of(view.net),
            notify_url=view.notify_url,
            expires_at=view.expires_at,
            paid_at=view.paid_at,
            closed_at=view.closed_at,
            created_at=view.created_at,
        )


def order_document(view: OrderView) -> dict[str, Any]:
    """The order as JSON values, for webhook bodies (the same shape the API answers)."""
    return OrderOut.of(view).model_dump(mode="json")


class OrderEnvelope(BaseModel):
    order: OrderOut


class PaymentIn(RequestModel):
    """Exactly one of ``order_id`` and ``qr_payload``; no ``payment_password`` asks for a
    password-free payment (docs/payment-code.md), which may answer ``step_up_required``
    (as may a payment risk control challenges)."""

    order_id: str | None = Field(default=None, max_length=32)
    qr_payload: str | None = Field(default=None, max_length=600)
    payment_password: str | None = Field(default=None, max_length=64)
    # A step-up passed after risk control asked for one (``step_up_required``): the retry
    # of the same payment brings its id (docs/security.md, "Step-up for a challenged payment").
    challenge_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_reference(self) -> PaymentIn:
        if (self.order_id is None) == (self.qr_payload is None):
            raise ValueError("give exactly one of order_id and qr_payload")
        return self


class PaymentOut(BaseModel):
    id: str
    order_id: str
    merchant: dict[str, str]
    subject: str
    amount: AmountOut
    refunded: AmountOut
    status: str
    created_at: datetime

    @classmethod
    def of(cls, view: PaymentView) -> PaymentOut:
        return cls(
            id=view.id,
            order_id=view.order_id,
            merchant={"id": view.merchant_id, "name": view.merchant_name},
            subject=view.subject,
            amount=AmountOut.of(view.amount),
            refunded=AmountOut.of(view.refunded),
            status=view.status,
            created_at=view.created_at,
        )


class PaymentEnvelope(BaseModel):
    payment: PaymentOut
