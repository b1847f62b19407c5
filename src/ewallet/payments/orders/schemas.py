"""Requests and responses of the merchant API's orders (API.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn
from ewallet.kit.request_model import RequestModel
from ewallet.kit.urls import CallbackUrl
from ewallet.payments.schemas import MerchantNumber, OrderEnvelope, OrderOut


class OrderCreateIn(RequestModel):
    out_trade_no: MerchantNumber
    amount: AmountIn = None
    currency: str = Field(
        default="CNY",
        description="CNY, the one currency wallets hold (else currency_not_supported)",
    )
    subject: str = Field(min_length=1, max_length=128)
    notify_url: CallbackUrl | None = None
    expires_in: int | None = Field(default=None, description="seconds until the order expires")


class OrderCreatedOut(OrderEnvelope):
    qr_payload: str
    checkout_url: str


class OrderListOut(BaseModel):
    """A page of the merchant's orders, newest first (API.md: cursor-paginated lists)."""

    items: list[OrderOut]
    next_cursor: str | None
