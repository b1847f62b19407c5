"""Requests and responses of the payment code, its merchant charges and password-free payments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.payments.password_free import PasswordFreeView
from ewallet.payments.payment_code_charges import ChargeView
from ewallet.payments.payment_code_secrets import IssuedCode
from ewallet.payments.schemas import MerchantNumber, OrderOut


class PaymentCodeOut(BaseModel):
    code: str = Field(description="18 digits: show them under the QR image")
    qr_png_base64: str = Field(description="the code as a QR image, PNG, base64")
    expires_at: datetime = Field(description="after this the code is refused")
    refresh_after: int = Field(description="seconds until the app should fetch a new code")

    @classmethod
    def of(cls, issued: IssuedCode, qr_png_base64: str) -> PaymentCodeOut:
        return cls(
            code=issued.code,
            qr_png_base64=qr_png_base64,
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


class PasswordFreeIn(RequestModel):
    enabled: bool
    per_payment_cap: AmountIn = Field(default=None, description="at most 1000.00 CNY")
    payment_password: str | None = Field(
        default=None, max_length=64, description="needed to turn on or change the cap"
    )


class PasswordFreeOut(BaseModel):
    enabled: bool
    per_payment_cap: AmountOut | None
    daily_cap: AmountOut = Field(description="all payments without the PIN, per day")
    daily_count: int = Field(description="payments without the PIN, per day")
    remaining_today: AmountOut
    remaining_count_today: int

    @classmethod
    def of(cls, view: PasswordFreeView) -> PasswordFreeOut:
        cap = view.per_payment_cap
        return cls(
            enabled=view.enabled,
            per_payment_cap=AmountOut.of(cap) if cap is not None else None,
            daily_cap=AmountOut.of(view.daily_cap),
            daily_count=view.daily_count,
            remaining_today=AmountOut.of(view.remaining_today),
            remaining_count_today=view.remaining_count_today,
        )
