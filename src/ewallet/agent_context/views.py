"""One customer as a support agent sees them (masked by role), as other code reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ewallet.callbacks.views import CallbackView
from ewallet.chat.views import ChatView
from ewallet.history.views import HistoryEntry
from ewallet.kit.money import Money


@dataclass(frozen=True, slots=True)
class TicketBrief:
    id: str
    reference: str
    subject: str
    channel: str
    category: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CardBrief:
    """A bound card as staff see it: the bank, the type and the last four digits only."""

    id: str
    bank_name: str
    card_type: str
    last_four: str
    status: str
    created_at: datetime
    verified_at: datetime | None
    unbound_at: datetime | None


@dataclass(frozen=True, slots=True)
class OpenMovement:
    """A top-up or withdrawal still in flight (awaiting payment, at the bank, pending)."""

    kind: str  # "topup" or "withdrawal"
    id: str
    status: str
    method: str | None  # a top-up's method (card, alipay, wechat_pay, counter)
    amount: Money
    fee: Money | None  # a withdrawal's fee
    card: str | None  # "Bank (1234)"
    created_at: datetime
    age_seconds: int


@dataclass(frozen=True, slots=True)
class NoticeBrief:
    """A notice the customer was sent (in-app, and by SMS when it was a security one)."""

    id: str
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool
    security: bool


@dataclass(frozen=True, slots=True)
class DeviceBrief:
    id: str
    label: str | None
    trusted: bool
    first_seen_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """An audit event about the customer's account or one of their devices."""

    id: int
    action: str
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    ip: str | None  # only for roles that see personal data in full
    device_label: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountGuards:
    """How the customer's sign-in and payment password stand (why "I cannot pay")."""

    payment_password_set: bool
    payment_password_locked_until: datetime | None
    payment_failures: int
    login_locked_until: datetime | None
    login_failures: int
    totp_enabled: bool


@dataclass(frozen=True, slots=True)
class CustomerContext:
    user_id: str
    status: str
    tier: int
    phone: str
    phone_masked: bool
    real_name: str | None
    id_number: str | None
    identity_verified: bool
    frozen_at: datetime | None
    frozen_by: str | None
    frozen_reason: str | None
    created_at: datetime
    transactions: list[HistoryEntry]
    tickets: list[TicketBrief]
    chats: list[ChatView]
    callbacks: list[CallbackView]
    guards: AccountGuards
    cards: list[CardBrief]
    open_topups: list[OpenMovement]
    open_withdrawals: list[OpenMovement]
    notices: list[NoticeBrief]
    devices: list[DeviceBrief]
    security_events: list[SecurityEvent]
    transactions_next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerBrief:
    """One row of a customer search: enough to pick the right person, masked by role."""

    user_id: str
    phone: str
    phone_masked: bool
    status: str
    tier: int
    real_name: str | None
    identity_verified: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerSearch:
    """The customers found, and how (``phone``, ``user_id``, ``ticket`` or ``chat``)."""

    matched_by: str
    items: list[CustomerBrief]
