"""Requests and responses of the merchant API's payment links."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.payments.payment_links.views import PaymentLinkView


class PaymentLinkCreateIn(RequestModel):
    amount: AmountIn = Field(
        default=None, description="a fixed amount; left out: the payer types the amount"
    )
    currency: str = Field(
        default="CNY",
        description="CNY, the one currency wallets hold (else currency_not_supported)",
    )
    subject: str = Field(min_length=1, max_length=128)
    out_trade_prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,16}$",
        description="starts the out_trade_no of the orders the link makes (default PL)",
    )
    expires_at: datetime | None = Field(default=None, description="the link works until then")
    max_uses: int | None = Field(
        default=None, ge=1, le=1_000_000, description="how many orders the link may make"
    )


class PaymentLinkOut(BaseModel):
    id: str
    url: str
    qr_payload: str
    amount: AmountOut | None
    currency: str
    subject: str
    out_trade_prefix: str
    status: str = Field(description="active, disabled, expired or used_up")
    uses: int
    max_uses: int | None
    expires_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: PaymentLinkView, *, url: str) -> PaymentLinkOut:
        return cls(
            id=view.id,
            url=url,
            qr_payload=url,
            amount=None if view.amount is None else AmountOut.of(view.amount),
            currency=view.currency,
            subject=view.subject,
            out_trade_prefix=view.out_trade_prefix,
            status=view.status,
            uses=view.uses,
            max_uses=view.max_uses,
            expires_at=view.expires_at,
            disabled_at=view.disabled_at,
            created_at=view.created_at,
        )


class PaymentLinkEnvelope(BaseModel):
    payment_link: PaymentLinkOut


class PaymentLinkListOut(BaseModel):
    items: list[PaymentLinkOut]
    next_cursor: str | None
