"""Request and response bodies of the customer's support API (separate from the ORM tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ewallet.kit.pagination import Page
from ewallet.kit.request_model import RequestModel
from ewallet.models.support import (
    SupportAttachment,
    SupportTicket,
    SupportTicketMessage,
    TicketStatus,
)
from ewallet.support.views import SupportEmail, TicketThread

Category = Literal[
    "account", "payment", "card", "topup", "withdrawal", "transfer", "dispute", "complaint", "other"
]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending_customer", "resolved", "closed"]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class TicketCreateIn(RequestModel):
    subject: Subject
    body: Body
    category: Category | None = None


class MessageIn(RequestModel):
    body: Body


class RatingIn(RequestModel):
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None


class MessageOut(BaseModel):
    id: str
    author_type: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, message: SupportTicketMessage) -> MessageOut:
        return cls(
            id=message.id,
            author_type=message.author_type,
            body=message.body,
            created_at=message.created_at,
        )


class AttachmentOut(BaseModel):
    id: str
    message_id: str
    filename: str
    content_type: str
    size: int
    stored: bool
    rejected_reason: str | None

    @classmethod
    def of(cls, attachment: SupportAttachment) -> AttachmentOut:
        return cls(
            id=attachment.id,
            message_id=attachment.message_id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            stored=attachment.content is not None,
            rejected_reason=attachment.rejected_reason,
        )


class TicketOut(BaseModel):
    """A ticket as its customer sees it: no assignee, no SLA, no internal notes."""

    id: str
    reference: str
    subject: str
    status: Status
    category: Category
    priority: Priority
    channel: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    rating: int | None
    rating_comment: str | None
    can_rate: bool
    messages: list[MessageOut] | None = None
    attachments: list[AttachmentOut] | None = None

    @classmethod
    def of(
        cls,
        ticket: SupportTicket,
        messages: list[SupportTicketMessage] | None = None,
        attachments: list[SupportAttachment] | None = None,
    ) -> TicketOut:
        return cls(
            id=ticket.id,
            reference=ticket.reference,
            subject=ticket.subject,
            status=ticket.status,
            category=ticket.category,
            priority=ticket.priority,
            channel=ticket.channel,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            resolved_at=ticket.resolved_at,
            rating=ticket.rating,
            rating_comment=ticket.rating_comment,
            can_rate=ticket.rated_at is None
            and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED),
            messages=None if messages is None else [MessageOut.of(m) for m in messages],
            attachments=None if attachments is None else [AttachmentOut.of(a) for a in attachments],
        )

    @classmethod
    def thread(cls, thread: TicketThread) -> TicketOut:
        """The ticket with the messages and attachments its customer may see."""
        return cls.of(thread.ticket, thread.messages, thread.attachments)


class TicketList(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[SupportTicket]) -> TicketList:
        return cls(
            items=[TicketOut.of(ticket) for ticket in page.items], next_cursor=page.next_cursor
        )


class EmailClaimIn(RequestModel):
    email: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            to_lower=True,
            max_length=254,
            pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        ),
    ]


class EmailVerifyIn(RequestModel):
    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class SupportEmailOut(BaseModel):
    email: str | None
    verified: bool

    @classmethod
    def of(cls, email: SupportEmail) -> SupportEmailOut:
        return cls(email=email.email, verified=email.verified)
