"""The agent's customer view and customer search as JSON: money as decimal strings,
personal data masked by role."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ewallet.agent_context.views import (
    AccountGuards,
    CardBrief,
    CustomerBrief,
    CustomerContext,
    CustomerSearch,
    DeviceBrief,
    NoticeBrief,
    OpenMovement,
    SecurityEvent,
    TicketBrief,
)
from ewallet.callbacks.schemas import StaffCallbackOut
from ewallet.chat.schemas import StaffChatOut
from ewallet.history.schemas import TransactionOut
from ewallet.history.views import HistoryEntry
from ewallet.kit.amounts import AmountOut
from ewallet.kit.pagination import Page
from ewallet.models.identity import UserStatus


class FreezeStateOut(BaseModel):
    frozen: bool
    frozen_at: datetime | None
    frozen_by: str | None
    reason: str | None


class CustomerOut(BaseModel):
    id: str
    status: str
    tier: int
    phone: str = Field(description="in full for risk officers and admins, else masked")
    phone_masked: bool
    real_name: str | None = Field(description="always masked")
    id_number: str | None = Field(description="always masked")
    identity_verified: bool
    freeze: FreezeStateOut
    created_at: datetime


class TicketBriefOut(BaseModel):
    id: str
    reference: str
    subject: str
    channel: str
    category: str
    status: str
    created_at: datetime

    @classmethod
    def of(cls, ticket: TicketBrief) -> TicketBriefOut:
        return cls(
            id=ticket.id,
            reference=ticket.reference,
            subject=ticket.subject,
            channel=ticket.channel,
            category=ticket.category,
            status=ticket.status,
            created_at=ticket.created_at,
        )


class AccountGuardsOut(BaseModel):
    payment_password_set: bool
    payment_password_locked_until: datetime | None = Field(description="while locked")
    payment_failures: int
    login_locked_until: datetime | None = Field(description="while locked")
    login_failures: int
    totp_enabled: bool

    @classmethod
    def of(cls, guards: AccountGuards) -> AccountGuardsOut:
        return cls(
            payment_password_set=guards.payment_password_set,
            payment_password_locked_until=guards.payment_password_locked_until,
            payment_failures=guards.payment_failures,
            login_locked_until=guards.login_locked_until,
            login_failures=guards.login_failures,
            totp_enabled=guards.totp_enabled,
        )


class CardBriefOut(BaseModel):
    id: str
    bank_name: str
    card_type: str
    last_four: str
    status: str
    created_at: datetime
    verified_at: datetime | None
    unbound_at: datetime | None

    @classmethod
    def of(cls, card: CardBrief) -> CardBriefOut:
        return cls(
            id=card.id,
            bank_name=card.bank_name,
            card_type=card.card_type,
            last_four=card.last_four,
            status=card.status,
            created_at=card.created_at,
            verified_at=card.verified_at,
            unbound_at=card.unbound_at,
        )


class OpenMovementOut(BaseModel):
    kind: str = Field(description="topup or withdrawal")
    id: str
    status: str
    method: str | None = Field(description="a top-up's method")
    amount: AmountOut
    fee: AmountOut | None = Field(description="a withdrawal's fee")
    card: str | None = Field(description="bank and last four digits")
    created_at: datetime
    age_seconds: int

    @classmethod
    def of(cls, movement: OpenMovement) -> OpenMovementOut:
        return cls(
            kind=movement.kind,
            id=movement.id,
            status=movement.status,
            method=movement.method,
            amount=AmountOut.of(movement.amount),
            fee=AmountOut.of(movement.fee) if movement.fee is not None else None,
            card=movement.card,
            created_at=movement.created_at,
            age_seconds=movement.age_seconds,
        )


class NoticeBriefOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool
    security: bool = Field(description="a security notice (also sent by SMS)")

    @classmethod
    def of(cls, notice: NoticeBrief) -> NoticeBriefOut:
        return cls(
            id=notice.id,
            kind=notice.kind,
            title=notice.title,
            body=notice.body,
            created_at=notice.created_at,
            read=notice.read,
            security=notice.security,
        )


class DeviceBriefOut(BaseModel):
    id: str
    label: str | None
    trusted: bool
    first_seen_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, device: DeviceBrief) -> DeviceBriefOut:
        return cls(
            id=device.id,
            label=device.label,
            trusted=device.trusted,
            first_seen_at=device.first_seen_at,
            last_seen_at=device.last_seen_at,
            revoked_at=device.revoked_at,
        )


class SecurityEventOut(BaseModel):
    id: int
    action: str = Field(description="the audit action, e.g. auth.signed_in, account.frozen")
    occurred_at: datetime
    actor_type: str
    actor_id: str | None = Field(description="the staff member, when staff acted")
    ip: str | None = Field(description="for risk officers and admins only")
    device_label: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: SecurityEvent) -> SecurityEventOut:
        return cls(
            id=event.id,
            action=event.action,
            occurred_at=event.occurred_at,
            actor_type=event.actor_type,
            actor_id=event.actor_id,
            ip=event.ip,
            device_label=event.device_label,
            details=event.details,
        )


class CustomerContextOut(BaseModel):
    customer: CustomerOut
    recent_transactions: list[TransactionOut]
    recent_tickets: list[TicketBriefOut]
    recent_chats: list[StaffChatOut]
    recent_callbacks: list[StaffCallbackOut]
    transactions_next_cursor: str | None = Field(
        description="the next page: GET .../customers/{user_id}/transactions?cursor="
    )
    guards: AccountGuardsOut
    cards: list[CardBriefOut]
    open_topups: list[OpenMovementOut]
    open_withdrawals: list[OpenMovementOut]
    notifications: list[NoticeBriefOut]
    devices: list[DeviceBriefOut]
    security_events: list[SecurityEventOut]

    @classmethod
    def of(cls, context: CustomerContext) -> CustomerContextOut:
        return cls(
            customer=CustomerOut(
                id=context.user_id,
                status=context.status,
                tier=context.tier,
                phone=context.phone,
                phone_masked=context.phone_masked,
                real_name=context.real_name,
                id_number=context.id_number,
                identity_verified=context.identity_verified,
                freeze=FreezeStateOut(
                    frozen=context.status == UserStatus.FROZEN,
                    frozen_at=context.frozen_at,
                    frozen_by=context.frozen_by,
                    reason=context.frozen_reason,
                ),
                created_at=context.created_at,
            ),
            recent_transactions=[TransactionOut.of(entry) for entry in context.transactions],
            recent_tickets=[TicketBriefOut.of(ticket) for ticket in context.tickets],
            recent_chats=[StaffChatOut.staff(chat) for chat in context.chats],
            recent_callbacks=[
                StaffCallbackOut.staff(cb, full_phone=not context.phone_masked)
                for cb in context.callbacks
            ],
            transactions_next_cursor=context.transactions_next_cursor,
            guards=AccountGuardsOut.of(context.guards),
            cards=[CardBriefOut.of(card) for card in context.cards],
            open_topups=[OpenMovementOut.of(m) for m in context.open_topups],
            open_withdrawals=[OpenMovementOut.of(m) for m in context.open_withdrawals],
            notifications=[NoticeBriefOut.of(n) for n in context.notices],
            devices=[DeviceBriefOut.of(d) for d in context.devices],
            security_events=[SecurityEventOut.of(e) for e in context.security_events],
        )


class CustomerBriefOut(BaseModel):
    id: str
    phone: str = Field(description="in full for risk officers and admins, else masked")
    phone_masked: bool
    status: str
    tier: int
    real_name: str | None = Field(description="always masked")
    identity_verified: bool
    created_at: datetime

    @classmethod
    def of(cls, brief: CustomerBrief) -> CustomerBriefOut:
        return cls(
            id=brief.user_id,
            phone=brief.phone,
            phone_masked=brief.phone_masked,
            status=brief.status,
            tier=brief.tier,
            real_name=brief.real_name,
            identity_verified=brief.identity_verified,
            created_at=brief.created_at,
        )


class CustomerSearchOut(BaseModel):
    matched_by: str = Field(description="phone, user_id, ticket or chat")
    items: list[CustomerBriefOut]

    @classmethod
    def of(cls, search: CustomerSearch) -> CustomerSearchOut:
        return cls(
            matched_by=search.matched_by, items=[CustomerBriefOut.of(b) for b in search.items]
        )


class CustomerTransactionsOut(BaseModel):
    """A page of a customer's transactions (the history's own transaction objects)."""

    items: list[TransactionOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[HistoryEntry]) -> CustomerTransactionsOut:
        return cls(
            items=[TransactionOut.of(entry) for entry in page.items], next_cursor=page.next_cursor
        )
