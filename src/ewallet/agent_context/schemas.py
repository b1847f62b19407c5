"""The agent's customer view as JSON: money as decimal strings, PII masked by role."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.agent_context.views import CustomerContext, TicketBrief
from ewallet.callbacks.schemas import StaffCallbackOut
from ewallet.chat.schemas import StaffChatOut
from ewallet.history.schemas import TransactionOut
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


class CustomerContextOut(BaseModel):
    customer: CustomerOut
    recent_transactions: list[TransactionOut]
    recent_tickets: list[TicketBriefOut]
    recent_chats: list[StaffChatOut]
    recent_callbacks: list[StaffCallbackOut]

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
        )
