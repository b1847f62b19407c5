"""Requests and responses of the payment code and its merchant charges."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn
from ewallet.kit.request_model import RequestModel
from ewallet.models.payment_codes import CodeFundingSource
from ewallet.payments.payment_codes.codec import qr_png_base64
from ewallet.payments.payment_codes.views import ChargeView, CodeFunding, IssuedCode
from ewallet.payments.schemas import MerchantNumber, OrderOut


class PaymentCodeOut(BaseModel):
    code: str = Field(description="18 digits: show them under the QR image")
    qr_png_base64: str = Field(description="the code as a QR image, PNG, base64")
    expires_at: datetime = Field(description="after this the code is refused")
    refresh_after: int = Field(description="seconds until the app should fetch a new code")

    @classmethod
    def of(cls, issued: IssuedCode) -> PaymentCodeOut:
        return cls(
            code=issued.code,
            qr_png_base64=qr_png_base64(issued.code),
            expires_at=issued.expires_at,
            refresh_after=issued.refresh_after,
        )


class ChargeIn(RequestModel):
    payment_code: str = Field(min_length=1, max_length=32)
    amount: AmountIn = None
    currency: str = Field(
        default="CNY",
        description="CNY, the one currency wallets hold (else currency_not_supported)",
    )
    out_trade_no: MerchantNumber
    subject: str | None = Field(default=None, min_length=1, max_length=128)
    terminal_id: MerchantNumber | None = Field(
        default=None,
        description="the cashier's device; unknown codes are budgeted per terminal as well as "
        "per key (docs/payment-code.md)",
    )


class ChargeOut(BaseModel):
    id: str
    status: str = Field(description="succeeded, pending (the customer confirms) or expired")
    auth: str | None = Field(description="none (without the PIN) or pin (confirmed)")
    payment_id: str | None
    order: OrderOut

    @classmethod
    def of(cls, view: ChargeView) -> ChargeOut:
        return cls(
            id=view.id,
            status=view.status,
            auth=view.auth,
            payment_id=view.payment_id,
            order=OrderOut.of(view.order),
        )


class ChargeEnvelope(BaseModel):
    charge: ChargeOut


class ConfirmationIn(RequestModel):
    payment_password: str = Field(max_length=64)


class CodeCardOut(BaseModel):
    id: str
    bank_name: str
    last_four: str


class CodeFundingOut(BaseModel):
    source: CodeFundingSource = Field(
        description="balance_first (the balance, then the card for the rest) or card"
    )
    card_id: str | None = Field(description="the card chosen; null: the default card")
    card: CodeCardOut | None = Field(
        description="the card a charge would use now (null: no active card -- the balance only)"
    )

    @classmethod
    def of(cls, view: CodeFunding) -> CodeFundingOut:
        card = view.card
        return cls(
            source=view.source,
            card_id=view.card_id,
            card=None
            if card is None
            else CodeCardOut(id=card.id, bank_name=card.bank_name, last_four=card.last_four),
        )


class CodeFundingIn(RequestModel):
    source: CodeFundingSource
    card_id: str | None = Field(
        default=None, max_length=32, description="required for card; optional for balance_first"
    )
