"""Card-transfer requests and responses: amounts as decimal strings, the payee masked."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ewallet.funding.withdrawals.card_transfers.service import PAYEE_NAME_MAX, CardTransferQuote
from ewallet.funding.withdrawals.card_transfers.views import CardTransferView
from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.request_model import RequestModel

ArrivalIn = Literal["realtime", "2h", "next_day"]


class CardTransferPreviewIn(RequestModel):
    card_number: str = Field(max_length=32)
    amount: AmountIn = None


class CardTransferIn(CardTransferPreviewIn):
    payee_name: str = Field(max_length=PAYEE_NAME_MAX)
    payment_password: str = Field(max_length=64)
    # When the bank is asked (docs/transfers.md); omitted: the caller's default.
    arrival: ArrivalIn | None = None
    challenge_id: str | None = Field(default=None, max_length=64)


class CardTransferPreviewOut(BaseModel):
    """Shown before the payment password: the card's bank and what it costs now."""

    bank_name: str
    card_last_four: str
    amount: AmountOut
    fee: AmountOut
    total: AmountOut
    free_quota_remaining: AmountOut

    @classmethod
    def of(cls, preview: CardTransferQuote) -> CardTransferPreviewOut:
        quote = preview.quote
        return cls(
            bank_name=preview.bank_name,
            card_last_four=preview.card_last_four,
            amount=AmountOut.of(quote.amount),
            fee=AmountOut.of(quote.fee),
            total=AmountOut.of(quote.total),
            free_quota_remaining=AmountOut.of(quote.free_quota_remaining),
        )


class CardTransferOut(BaseModel):
    id: str
    status: str
    payee_name_masked: str
    bank_name: str
    card_last_four: str
    amount: AmountOut
    fee: AmountOut
    arrival: ArrivalIn
    # A delayed transfer: when the bank is asked (``scheduled`` until then, cancellable).
    arrives_at: datetime | None
    failure_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, view: CardTransferView) -> CardTransferOut:
        arrival: ArrivalIn = "realtime"
        if view.arrival == "2h":
            arrival = "2h"
        elif view.arrival == "next_day":
            arrival = "next_day"
        return cls(
            id=view.id,
            status=view.status,
            payee_name_masked=view.payee_masked,
            bank_name=view.bank_name,
            card_last_four=view.card_last_four,
            amount=AmountOut.of(view.amount),
            fee=AmountOut.of(view.fee),
            arrival=arrival,
            arrives_at=view.arrives_at,
            failure_reason=view.failure_reason,
            created_at=view.created_at,
        )


class CardTransferEnvelope(BaseModel):
    card_transfer: CardTransferOut


class CardTransferPendingOut(CardTransferEnvelope):
    """202: the bank's answer is unknown; the money stays held until its records settle it."""

    code: Literal["operation_pending"] = "operation_pending"
