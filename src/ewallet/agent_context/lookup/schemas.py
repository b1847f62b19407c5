"""The money look-up as JSON: amounts as decimal strings, customers masked by role."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.agent_context.lookup.views import (
    ChargeFacts,
    MerchantBrief,
    MoneyLookup,
    MoneyRecord,
    OrderFacts,
    Party,
    PaymentFacts,
    RefundFacts,
    WebhookAttempt,
)
from ewallet.kit.amounts import AmountOut


class PartyOut(BaseModel):
    id: str
    phone: str = Field(description="in full for risk officers and admins, else masked")
    phone_masked: bool
    status: str

    @classmethod
    def of(cls, party: Party | None) -> PartyOut | None:
        if party is None:
            return None
        return cls(
            id=party.user_id,
            phone=party.phone,
            phone_masked=party.phone_masked,
            status=party.status,
        )


class MerchantBriefOut(BaseModel):
    id: str
    name: str
    status: str
    accepts_wallet: bool

    @classmethod
    def of(cls, merchant: MerchantBrief | None) -> MerchantBriefOut | None:
        if merchant is None:
            return None
        return cls(
            id=merchant.id,
            name=merchant.name,
            status=merchant.status,
            accepts_wallet=merchant.accepts_wallet,
        )


class OrderFactsOut(BaseModel):
    id: str
    out_trade_no: str
    subject: str
    status: str = Field(description="awaiting_payment, paid, refunded, closed or expired")
    amount: AmountOut
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    notifies: bool = Field(description="whether the merchant gets webhooks for it")

    @classmethod
    def of(cls, order: OrderFacts | None) -> OrderFactsOut | None:
        if order is None:
            return None
        return cls(
            id=order.id,
            out_trade_no=order.out_trade_no,
            subject=order.subject,
            status=order.status,
            amount=AmountOut.of(order.amount),
            created_at=order.created_at,
            expires_at=order.expires_at,
            paid_at=order.paid_at,
            closed_at=order.closed_at,
            notifies=order.notifies,
        )


class PaymentFactsOut(BaseModel):
    id: str
    status: str
    amount: AmountOut
    refunded: AmountOut
    created_at: datetime
    ledger_transaction_id: str

    @classmethod
    def of(cls, payment: PaymentFacts | None) -> PaymentFactsOut | None:
        if payment is None:
            return None
        return cls(
            id=payment.id,
            status=payment.status,
            amount=AmountOut.of(payment.amount),
            refunded=AmountOut.of(payment.refunded),
            created_at=payment.created_at,
            ledger_transaction_id=payment.ledger_transaction_id,
        )


class ChargeFactsOut(BaseModel):
    id: str
    status: str = Field(description="pending (waiting for the customer's PIN), succeeded, expired")
    auth: str | None
    amount: AmountOut
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, charge: ChargeFacts | None) -> ChargeFactsOut | None:
        if charge is None:
            return None
        return cls(
            id=charge.id,
            status=charge.status,
            auth=charge.auth,
            amount=AmountOut.of(charge.amount),
            created_at=charge.created_at,
            expires_at=charge.expires_at,
            completed_at=charge.completed_at,
        )


class RefundFactsOut(BaseModel):
    id: str
    out_refund_no: str
    amount: AmountOut
    created_at: datetime

    @classmethod
    def of(cls, refund: RefundFacts) -> RefundFactsOut:
        return cls(
            id=refund.id,
            out_refund_no=refund.out_refund_no,
            amount=AmountOut.of(refund.amount),
            created_at=refund.created_at,
        )


class WebhookAttemptOut(BaseModel):
    event_id: str
    event_type: str = Field(description="order.paid, order.refunded or order.closed")
    attempt: int
    succeeded: bool = Field(description="the merchant answered 2xx")
    status_code: int | None
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> WebhookAttemptOut:
        return cls(
            event_id=attempt.event_id,
            event_type=attempt.event_type,
            attempt=attempt.attempt,
            succeeded=attempt.succeeded,
            status_code=attempt.status_code,
            error=attempt.error,
            created_at=attempt.created_at,
        )


class MoneyRecordOut(BaseModel):
    kind: str = Field(
        description="order, payment, refund, payment_code_charge, transfer, topup, "
        "withdrawal, bill_payment or counter_deposit"
    )
    id: str
    status: str
    amount: AmountOut
    fee: AmountOut | None
    created_at: datetime
    completed_at: datetime | None
    verdict: str = Field(description="what it means for the customer (docs/customer-service.md)")
    customer: PartyOut | None = Field(description="who paid, topped up, withdrew or sent it")
    payee: PartyOut | None = Field(description="a transfer's receiving customer")
    merchant: MerchantBriefOut | None
    order: OrderFactsOut | None
    payment: PaymentFactsOut | None
    charge: ChargeFactsOut | None
    refunds: list[RefundFactsOut]
    webhooks: list[WebhookAttemptOut] = Field(description="newest first: what the shop was told")
    method: str | None
    card: str | None = Field(description="bank and last four digits")
    reference: str | None = Field(description="the bank's, PSP's, biller's or counter's")
    failure_reason: str | None
    ledger_transaction_id: str | None
    biller: str | None
    account_no: str | None = Field(description="a bill's account number, masked")

    @classmethod
    def of(cls, record: MoneyRecord) -> MoneyRecordOut:
        return cls(
            kind=record.kind,
            id=record.id,
            status=record.status,
            amount=AmountOut.of(record.amount),
            fee=AmountOut.of(record.fee) if record.fee is not None else None,
            created_at=record.created_at,
            completed_at=record.completed_at,
            verdict=record.verdict,
            customer=PartyOut.of(record.customer),
            payee=PartyOut.of(record.payee),
            merchant=MerchantBriefOut.of(record.merchant),
            order=OrderFactsOut.of(record.order),
            payment=PaymentFactsOut.of(record.payment),
            charge=ChargeFactsOut.of(record.charge),
            refunds=[RefundFactsOut.of(r) for r in record.refunds],
            webhooks=[WebhookAttemptOut.of(w) for w in record.webhooks],
            method=record.method,
            card=record.card,
            reference=record.reference,
            failure_reason=record.failure_reason,
            ledger_transaction_id=record.ledger_transaction_id,
            biller=record.biller,
            account_no=record.account_no,
        )


class MoneyLookupOut(BaseModel):
    matched_by: str = Field(description="id, ledger_transaction or out_trade_no")
    records: list[MoneyRecordOut]

    @classmethod
    def of(cls, lookup: MoneyLookup) -> MoneyLookupOut:
        return cls(
            matched_by=lookup.matched_by, records=[MoneyRecordOut.of(r) for r in lookup.records]
        )
