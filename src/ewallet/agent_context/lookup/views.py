"""A money record as the money look-up answers it: what it is, where it stands, who and
which merchant it concerns, and -- for anything about an order -- the order's payment,
refunds and what the merchant was told by webhook, with the verdict an agent reads out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ewallet.kit.money import Money


@dataclass(frozen=True, slots=True)
class Party:
    """A customer named by a money record (masked by the reader's role)."""

    user_id: str
    phone: str
    phone_masked: bool
    status: str


@dataclass(frozen=True, slots=True)
class MerchantBrief:
    id: str
    name: str
    status: str
    accepts_wallet: bool


@dataclass(frozen=True, slots=True)
class OrderFacts:
    id: str
    out_trade_no: str
    subject: str
    status: str  # as of now: an unpaid order past its expiry is "expired"
    amount: Money
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    notifies: bool  # a webhook address exists (the order's notify_url or the merchant's)


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    id: str
    status: str  # succeeded, partially_refunded, refunded
    amount: Money
    refunded: Money
    created_at: datetime
    ledger_transaction_id: str


@dataclass(frozen=True, slots=True)
class RefundFacts:
    id: str
    out_refund_no: str
    amount: Money
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChargeFacts:
    """A merchant's scan of the customer's payment code (its order is the sale)."""

    id: str
    status: str  # pending (waiting for the customer's PIN), succeeded, expired
    auth: str | None  # none or pin
    amount: Money
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One attempt to tell the merchant about the order (``webhook_deliveries``)."""

    event_id: str
    event_type: str
    attempt: int
    succeeded: bool
    status_code: int | None
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MoneyRecord:
    kind: str  # order, payment, refund, payment_code_charge, transfer, topup, ...
    id: str
    status: str
    amount: Money
    created_at: datetime
    completed_at: datetime | None
    verdict: str  # what it means for the customer (lookup/verdicts.py)
    customer: Party | None
    fee: Money | None = None
    payee: Party | None = None  # a transfer's receiving customer
    merchant: MerchantBrief | None = None
    order: OrderFacts | None = None
    payment: PaymentFacts | None = None
    charge: ChargeFacts | None = None
    refunds: list[RefundFacts] = field(default_factory=list)
    webhooks: list[WebhookAttempt] = field(default_factory=list)
    method: str | None = None  # a top-up's method
    card: str | None = None  # "Bank (1234)"
    reference: str | None = None  # the bank's, PSP's, biller's or counter's reference
    failure_reason: str | None = None
    ledger_transaction_id: str | None = None
    biller: str | None = None
    account_no: str | None = None  # a bill's account number, masked


@dataclass(frozen=True, slots=True)
class MoneyLookup:
    """What a look-up found, and how: ``id`` (an id of ours), ``ledger_transaction`` (a
    ledger entry's or hold's id, as the customer's history shows it) or ``out_trade_no``."""

    matched_by: str
    records: list[MoneyRecord]
