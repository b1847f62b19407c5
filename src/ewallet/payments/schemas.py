"""Requests and responses of ``/v1/payments``, the order and payment shapes every payments
answer shares (API.md), and the merchant API's amount parsing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, Field, model_validator

from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.amounts import parse_amount as parse_wallet_amount
from ewallet.kit.money import Money
from ewallet.kit.request_model import RequestModel
from ewallet.models.card_payments import FundingSource
from ewallet.payments.card_funding.views import Funding, FundingChoice
from ewallet.payments.errors import require_wallet_currency
from ewallet.payments.views import OrderView, PaymentView

# A payment's ``status``: settled (and how much of it refunded), or held for a risk review
# and then, if not approved, rejected (the money back in the wallet).
PaymentStatusOut = Literal[
    "succeeded", "partially_refunded", "refunded", "under_review", "rejected", "pending", "failed"
]

# An order's ``status`` as shown (``expired`` is an unpaid order past its time; an order
# ``under_review`` has a payment waiting for a risk officer, docs/risk-review.md).
OrderStatusOut = Literal[
    "awaiting_payment", "under_review", "paid", "refunded", "closed", "expired"
]

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
    status: OrderStatusOut
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
            status=cast(OrderStatusOut, str(view.status)),
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


class FundingIn(RequestModel):
    """Where the money comes from (docs/card-payments.md): ``balance`` (the default),
    ``card`` (all of it from the bound card ``card_id``) or ``balance_and_card`` (the
    available balance, then the card for the rest)."""

    source: Literal["balance", "card", "balance_and_card"] = "balance"
    card_id: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _card_named(self) -> FundingIn:
        if self.source != "balance" and self.card_id is None:
            raise ValueError("a card source needs card_id")
        return self

    def choice(self) -> FundingChoice:
        return FundingChoice(FundingSource(self.source), self.card_id)


class FundingOut(BaseModel):
    """How a card-funded payment was split: the balance part and the card's."""

    source: Literal["balance", "card", "balance_and_card"]
    balance: AmountOut
    card: AmountOut
    card_id: str | None

    @classmethod
    def of(cls, funding: Funding) -> FundingOut:
        return cls(
            source=funding.source.value,
            balance=AmountOut.of(funding.balance),
            card=AmountOut.of(funding.card),
            card_id=funding.card_id,
        )


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
    # Absent: the balance, as before (docs/card-payments.md).
    funding: FundingIn | None = None

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
    status: PaymentStatusOut
    created_at: datetime
    review_due_at: datetime | None = Field(
        default=None, description="when a risk officer's decision is due (under_review only)"
    )
    funding: FundingOut | None = Field(
        default=None, description="how a card-funded payment was split (null: the balance)"
    )

    @classmethod
    def of(cls, view: PaymentView) -> PaymentOut:
        return cls(
            id=view.id,
            order_id=view.order_id,
            merchant={"id": view.merchant_id, "name": view.merchant_name},
            subject=view.subject,
            amount=AmountOut.of(view.amount),
            refunded=AmountOut.of(view.refunded),
            status=cast(PaymentStatusOut, str(view.status)),
            created_at=view.created_at,
            review_due_at=view.review_due_at,
            funding=None if view.funding is None else FundingOut.of(view.funding),
        )


class PaymentEnvelope(BaseModel):
    payment: PaymentOut


class PaymentUnderReviewOut(PaymentEnvelope):
    """202: risk control holds the payment for review; the amount is held in the payer's
    wallet and reaches the merchant only if a risk officer approves it by
    ``review_due_at`` (docs/risk-review.md, "Merchant payments")."""

    code: Literal["under_review"] = "under_review"
    review_due_at: datetime | None

    @classmethod
    def of(cls, view: PaymentView) -> PaymentUnderReviewOut:
        return cls(payment=PaymentOut.of(view), review_due_at=view.review_due_at)


class PaymentPendingOut(PaymentEnvelope):
    """202: the bank has not said whether it debited the card; the order is kept for this
    payment until it does, and the payment then succeeds or fails (docs/card-payments.md).
    Read it again with ``GET /v1/payments/{id}``."""

    code: Literal["operation_pending"] = "operation_pending"

    @classmethod
    def of(cls, view: PaymentView) -> PaymentPendingOut:
        return cls(payment=PaymentOut.of(view))
