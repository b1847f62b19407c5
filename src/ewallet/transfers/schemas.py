"""Transfer requests and responses: amounts as decimal strings, parties masked (API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.i18n import Locale
from ewallet.kit.request_model import RequestModel
from ewallet.transfers.service import MEMO_MAX_LENGTH
from ewallet.transfers.views import (
    NEW_PAYEE_WARNING,
    Party,
    Payee,
    TransferSettingsView,
    TransferView,
)

ArrivalIn = Literal["realtime", "2h", "next_day"]


class TransferPreviewIn(RequestModel):
    to_phone: str = Field(max_length=32)
    # Any JSON value: a number or a malformed string is ``invalid_amount``, not a 422 here.
    amount: AmountIn = None


class TransferIn(RequestModel):
    to_phone: str = Field(max_length=32)
    amount: AmountIn = None
    payment_password: str = Field(max_length=64)
    memo: str | None = Field(default=None, max_length=MEMO_MAX_LENGTH)
    # A step-up passed after risk control asked for one (``step_up_required``): the same
    # transfer sent again brings its id (docs/security.md, "Step-up for a challenged payment").
    challenge_id: str | None = Field(default=None, max_length=64)
    # When the money reaches the payee (docs/transfers.md); omitted: the caller's default
    # from ``/v1/me/transfer-settings`` (``realtime`` unless they chose otherwise).
    arrival: ArrivalIn | None = None
    # The scam warning confirmed: required (true) for a first transfer to this payee, else
    # ``409 new_payee_confirmation_required``; ignored for a payee paid before.
    acknowledge_new_payee: bool = False


class PartyOut(BaseModel):
    phone_masked: str
    name_masked: str | None

    @classmethod
    def of(cls, party: Party) -> PartyOut:
        return cls(phone_masked=party.phone_masked, name_masked=party.name_masked)


class TransferPreviewOut(BaseModel):
    """Shown before the payment password: who the money would go to."""

    payee: PartyOut
    new_payee: bool
    amount: AmountOut | None = None
    # A first transfer to this payee: the scam warning to show and have confirmed
    # (``acknowledge_new_payee``), in the caller's language; null for a payee paid before.
    warning: str | None = None

    @classmethod
    def of(cls, payee: Payee, amount: AmountOut | None, locale: Locale) -> TransferPreviewOut:
        warning = NEW_PAYEE_WARNING.get(locale) if payee.new_payee else None
        return cls(
            payee=PartyOut.of(payee.party),
            new_payee=payee.new_payee,
            amount=amount,
            warning=warning,
        )


class TransferOut(BaseModel):
    id: str
    direction: Literal["in", "out"]
    amount: AmountOut
    memo: str | None
    status: str
    payer: PartyOut
    payee: PartyOut
    # The ledger transaction; null while the transfer is under review or after a rejection.
    transaction_id: str | None
    created_at: datetime
    # Held for review: when risk control's decision is due (docs/risk-review.md); else null.
    review_due_at: datetime | None = None
    arrival: ArrivalIn = "realtime"
    # A delayed transfer: when it reaches the payee (``scheduled`` until then, cancellable).
    arrives_at: datetime | None = None

    @classmethod
    def of(cls, view: TransferView, *, user_id: str) -> TransferOut:
        return cls(
            id=view.id,
            direction="out" if view.direction_for(user_id) == "out" else "in",
            amount=AmountOut.of(view.amount),
            memo=view.memo,
            status=view.status,
            payer=PartyOut.of(view.payer),
            payee=PartyOut.of(view.payee),
            transaction_id=view.ledger_transaction_id,
            created_at=view.created_at,
            review_due_at=view.review_due_at,
            arrival=_arrival(view.arrival),
            arrives_at=view.arrives_at,
        )


class TransferEnvelope(BaseModel):
    transfer: TransferOut


class TransferUnderReviewOut(TransferEnvelope):
    """202: risk control holds the transfer for review; the amount is held in the payer's
    wallet and reaches the payee only if a risk officer approves it by ``review_due_at``."""

    code: Literal["under_review"] = "under_review"


def _arrival(value: str) -> ArrivalIn:
    if value == "2h":
        return "2h"
    if value == "next_day":
        return "next_day"
    return "realtime"


class TransferSettingsIn(RequestModel):
    default_arrival: ArrivalIn


class TransferSettingsOut(BaseModel):
    """The arrival option a transfer takes when its request names none."""

    default_arrival: ArrivalIn

    @classmethod
    def of(cls, view: TransferSettingsView) -> TransferSettingsOut:
        return cls(default_arrival=_arrival(view.default_arrival))
