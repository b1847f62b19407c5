"""Bill requests and responses: amounts as decimal strings, accounts and holders masked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, cast

from pydantic import BaseModel, Field

from ewallet.bills.views import BillFunding, BillLookup, BillPaymentView, Receipt, mask_account
from ewallet.integrations.biller.directory import BillerSpec
from ewallet.kit.amounts import AmountIn, AmountOut
from ewallet.kit.money import Money
from ewallet.kit.request_model import RequestModel
from ewallet.payments.schemas import FundingIn, FundingOut

LocalizedText = dict[Literal["zh-CN", "en"], str]


class BillerOut(BaseModel):
    id: str
    category: str
    name: LocalizedText
    region: str
    account_hint: LocalizedText
    account_pattern: str
    has_check_digit: bool
    # Mobile top-ups: the amounts the carrier accepts; null for bills (any amount).
    allowed_amounts: list[AmountOut] | None

    @classmethod
    def of(cls, spec: BillerSpec) -> BillerOut:
        amounts = spec.fixed_amounts
        return cls(
            id=spec.id,
            category=spec.category,
            name={"zh-CN": spec.name_zh, "en": spec.name_en},
            region=spec.region,
            account_hint={"zh-CN": spec.account_hint_zh, "en": spec.account_hint_en},
            account_pattern=spec.account_pattern,
            has_check_digit=spec.check_digit is not None,
            allowed_amounts=None
            if amounts is None
            else [AmountOut.of(Money(minor, "CNY")) for minor in amounts],
        )


class BillerList(BaseModel):
    items: list[BillerOut]


class BillLookupIn(RequestModel):
    biller_id: str = Field(max_length=32)
    account_no: str = Field(max_length=40)


class BillLookupOut(BaseModel):
    biller_id: str
    account_no_masked: str
    amount_due: AmountOut
    holder_name_masked: str
    period: str
    due_date: date

    @classmethod
    def of(cls, bill: BillLookup) -> BillLookupOut:
        return cls(
            biller_id=bill.biller.id,
            account_no_masked=mask_account(bill.account_no),
            amount_due=AmountOut.of(bill.amount_due),
            holder_name_masked=bill.holder_name_masked,
            period=bill.period,
            due_date=bill.due_date,
        )


class BillPaymentIn(BillLookupIn):
    # Any JSON value: a number or a malformed string is ``invalid_amount``, not a 422 here.
    amount: AmountIn = None
    payment_password: str = Field(max_length=64)
    # The step-up passed after a ``step_up_required`` answer to this payment (docs/risk-rules.md).
    challenge_id: str | None = Field(default=None, max_length=64)
    # Absent: the balance, as before; the same object as ``POST /v1/payments`` takes
    # (docs/bills.md, "Paying with a card").
    funding: FundingIn | None = None


class BillFundingOut(FundingOut):
    """How a card-funded bill payment is split, and where its card debit stands:
    ``pending`` (the bank has not answered), ``debited`` or ``declined`` (not debited:
    nothing moved, the payment ``rejected``)."""

    card_status: Literal["pending", "debited", "declined"]

    @classmethod
    def of_bill(cls, funding: BillFunding) -> BillFundingOut:
        return cls(
            source=cast(Literal["card", "balance_and_card"], funding.source),
            balance=AmountOut.of(funding.balance),
            card=AmountOut.of(funding.card),
            card_id=funding.card_id,
            card_status=cast(Literal["pending", "debited", "declined"], funding.card_status),
        )


class BillPaymentOut(BaseModel):
    id: str
    biller_id: str
    account_no_masked: str
    holder_name_masked: str | None
    period: str | None
    amount: AmountOut
    status: Literal["pending", "succeeded", "failed", "under_review", "rejected"]
    receipt_no: str | None
    failure_reason: str | None
    # The ledger transaction; null while the payment is under review or after a rejection.
    transaction_id: str | None
    refund_transaction_id: str | None
    created_at: datetime
    completed_at: datetime | None
    # Held for review: when risk control's decision is due (docs/risk-review.md); else null.
    review_due_at: datetime | None = None
    funding: BillFundingOut | None = Field(
        default=None, description="how a card-funded payment is split (null: the balance)"
    )

    @classmethod
    def of(cls, payment: BillPaymentView) -> BillPaymentOut:
        return cls(
            id=payment.id,
            biller_id=payment.biller_id,
            account_no_masked=payment.account_no_masked,
            holder_name_masked=payment.holder_name_masked,
            period=payment.period,
            amount=AmountOut.of(payment.amount),
            status=payment.status,
            receipt_no=payment.receipt_no,
            failure_reason=payment.failure_reason,
            transaction_id=payment.ledger_transaction_id,
            refund_transaction_id=payment.refund_transaction_id,
            created_at=payment.created_at,
            completed_at=payment.completed_at,
            review_due_at=payment.review_due_at,
            funding=None if payment.funding is None else BillFundingOut.of_bill(payment.funding),
        )


class BillPaymentEnvelope(BaseModel):
    bill_payment: BillPaymentOut


class BillPaymentPendingOut(BillPaymentEnvelope):
    """202: ``operation_pending`` -- the money moved and the biller has not confirmed yet; it
    is told again later (or, paid by card, the bank has not said whether it debited the
    card: ``funding.card_status`` ``pending``) -- or ``under_review``: risk control holds
    the payment (the amount held in the wallet, the biller not told) until a risk officer
    decides, by ``review_due_at``."""

    code: Literal["operation_pending", "under_review"] = "operation_pending"


class ReceiptBillerOut(BaseModel):
    id: str
    category: str
    name: LocalizedText


class ReceiptOut(BaseModel):
    receipt_no: str
    bill_payment_id: str
    biller: ReceiptBillerOut
    account_no_masked: str
    holder_name_masked: str | None
    period: str | None
    amount: AmountOut
    paid_at: datetime
    reference: str
    biller_confirmation: str | None
    funding: BillFundingOut | None = Field(
        default=None, description="how a card-funded payment was split (null: the balance)"
    )

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptOut:
        payment, biller = receipt.payment, receipt.biller
        return cls(
            receipt_no=receipt.receipt_no,
            bill_payment_id=payment.id,
            biller=ReceiptBillerOut(
                id=biller.id,
                category=biller.category,
                name={"zh-CN": biller.name_zh, "en": biller.name_en},
            ),
            account_no_masked=payment.account_no_masked,
            holder_name_masked=payment.holder_name_masked,
            period=payment.period,
            amount=AmountOut.of(payment.amount),
            paid_at=receipt.paid_at,
            reference=payment.id,
            biller_confirmation=payment.biller_confirmation,
            funding=None if payment.funding is None else BillFundingOut.of_bill(payment.funding),
        )
