"""Receive-code requests and responses (docs/money-requests.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel
from ewallet.money_requests.receive_codes.qr import qr_svg
from ewallet.money_requests.receive_codes.views import ReceiveCodeView, ReceiveTarget
from ewallet.money_requests.service import NOTE_MAX_LENGTH
from ewallet.transfers.schemas import (
    PartyOut,
    TransferEnvelope,
    TransferOut,
    TransferUnderReviewOut,
)
from ewallet.transfers.views import TransferView


class ReceiveTermsIn(RequestModel):
    amount: AmountIn = None  # null: any amount
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)


class ReceiveCodeOut(BaseModel):
    token: str
    url: str  # what the QR holds: the web wallet's pay page for this code
    amount: AmountOut | None  # fixed amount, or null
    note: str | None
    qr_svg: str = Field(description="the URL as a QR code, SVG")
    updated_at: datetime

    @classmethod
    def of(cls, view: ReceiveCodeView) -> ReceiveCodeOut:
        fixed = None if view.fixed_amount is None else AmountOut.of(view.fixed_amount)
        return cls(
            token=view.token,
            url=view.url,
            amount=fixed,
            note=view.note,
            qr_svg=qr_svg(view.url),
            updated_at=view.updated_at,
        )


class ReceiveTargetOut(BaseModel):
    payee: PartyOut
    new_payee: bool
    amount: AmountOut | None  # fixed amount, or null: the payer types one
    note: str | None

    @classmethod
    def of(cls, target: ReceiveTarget) -> ReceiveTargetOut:
        fixed = None if target.fixed_amount is None else AmountOut.of(target.fixed_amount)
        return cls(
            payee=PartyOut.of(target.payee.party),
            new_payee=target.payee.new_payee,
            amount=fixed,
            note=target.note,
        )


class ReceivePaymentIn(RequestModel):
    amount: AmountIn = None  # required unless the code fixes it
    memo: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)
    payment_password: str = Field(max_length=64)
    challenge_id: str | None = Field(default=None, max_length=64)


class ReceivePaymentOut(TransferEnvelope):
    """201: the transfer that paid the code, as ``POST /v1/transfers`` answers it."""

    @classmethod
    def of(cls, view: TransferView, *, user_id: str) -> ReceivePaymentOut:
        return cls(transfer=TransferOut.of(view, user_id=user_id))


class ReceivePaymentUnderReviewOut(TransferUnderReviewOut):
    """202: risk control holds the paying transfer for review (docs/risk-review.md)."""

    @classmethod
    def of(cls, view: TransferView, *, user_id: str) -> ReceivePaymentUnderReviewOut:
        return cls(transfer=TransferOut.of(view, user_id=user_id))
