"""Requests and answers of the static-QR routes (docs/static-qr.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.config import Settings
from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.payments.static_qr.links import static_qr_url
from ewallet.payments.static_qr.views import StaticQrCodeView, StaticQrTarget


class StaticQrPaymentIn(RequestModel):
    """``amount`` may be left out for a fixed-amount code; no ``payment_password`` asks
    for a password-free payment (which may answer ``step_up_required``)."""

    token: str = Field(min_length=1, max_length=64)
    amount: AmountIn = None
    payment_password: str | None = Field(default=None, max_length=64)
    # A step-up passed after risk control asked for one (``step_up_required``).
    challenge_id: str | None = Field(default=None, max_length=64)


class RegenerateIn(RequestModel):
    """``fixed_amount``: the amount every payment of the new code is for; absent or null:
    the payer types it."""

    fixed_amount: AmountIn = None


class StaticQrCodeOut(BaseModel):
    token: str
    store_id: str | None
    store_name: str | None
    fixed_amount: AmountOut | None
    status: str
    pay_url: str
    pdf_url: str
    created_at: datetime

    @classmethod
    def of(cls, view: StaticQrCodeView, settings: Settings) -> StaticQrCodeOut:
        return cls(
            token=view.token,
            store_id=view.store_id,
            store_name=view.store_name,
            fixed_amount=None if view.fixed_amount is None else AmountOut.of(view.fixed_amount),
            status=view.status,
            pay_url=static_qr_url(settings, view.token),
            pdf_url=f"/v1/merchant/static-qr/{view.token}.pdf",
            created_at=view.created_at,
        )


class StaticQrCodeList(BaseModel):
    items: list[StaticQrCodeOut]


class StaticQrCodeEnvelope(BaseModel):
    code: StaticQrCodeOut


class StaticQrTargetOut(BaseModel):
    """What a scanned code pays, shown before paying."""

    merchant: dict[str, str]
    store_name: str | None
    payee_name: str
    fixed_amount: AmountOut | None

    @classmethod
    def of(cls, target: StaticQrTarget) -> StaticQrTargetOut:
        fixed = target.fixed_amount
        return cls(
            merchant={"id": target.merchant.id, "name": target.merchant.name},
            store_name=target.store_name,
            payee_name=target.payee_name,
            fixed_amount=None if fixed is None else AmountOut.of(fixed),
        )
