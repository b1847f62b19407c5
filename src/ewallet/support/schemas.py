"""Request and response bodies of the support API (separate from the ORM tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ewallet.kit.request_model import RequestModel
from ewallet.models.support import SupportAttachment, SupportTicket, SupportTicketMessage
from ewallet.support.sla import sla_state

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
            can_rate=ticket.rated_at is None and ticket.status in ("resolved", "closed"),
            messages=None if messages is None else [MessageOut.of(m) for m in messages],
            attachments=None if attachments is None else [AttachmentOut.of(a) for a in attachments],
        )


class TicketList(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class StaffMessageOut(MessageOut):
    author_id: str | None
    internal: bool

    @classmethod
    def of(cls, message: SupportTicketMessage) -> StaffMessageOut:
        return cls(
            id=message.id,
            author_type=message.author_type,
            author_id=message.author_id,
            body=message.body,
            internal=message.internal,
            created_at=message.created_at,
        )


class StaffTicketOut(BaseModel):
    id: str
    reference: str
    user_id: str | None
    email: str | None
    phone: str | None  # a caller without an account (a logged phone call)
    subject: str
    status: Status
    category: Category
    priority: Priority
    channel: str
    assignee_id: str | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_first_response_due_at: datetime
    sla_resolution_due_at: datetime
    sla_first_response_breached: bool
    sla_resolution_breached: bool
    rating: int | None
    rating_comment: str | None
    messages: list[StaffMessageOut] | None = None
    attachments: list[AttachmentOut] | None = None

    @classmethod
    def of(
        cls,
        ticket: SupportTicket,
        *,
        now: datetime,
        messages: list[SupportTicketMessage] | None = None,
        attachments: list[SupportAttachment] | None = None,
    ) -> StaffTicketOut:
        sla = sla_state(ticket, now=now)
        return cls(
            id=ticket.id,
            reference=ticket.reference,
            user_id=ticket.user_id,
            email=ticket.email,
            phone=ticket.phone,
            subject=ticket.subject,
            status=ticket.status,
            category=ticket.category,
            priority=ticket.priority,
            channel=ticket.channel,
            assignee_id=ticket.assignee_id,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
            closed_at=ticket.closed_at,
            sla_first_response_due_at=ticket.sla_first_response_due_at,
            sla_resolution_due_at=ticket.sla_resolution_due_at,
            sla_first_response_breached=sla.first_response_breached,
            sla_resolution_breached=sla.resolution_breached,
            rating=ticket.rating,
            rating_comment=ticket.rating_comment,
            messages=None if messages is None else [StaffMessageOut.of(m) for m in messages],
            attachments=None if attachments is None else [AttachmentOut.of(a) for a in attachments],
        )


class StaffTicketList(BaseModel):
    items: list[StaffTicketOut]
    next_cursor: str | None


class StaffReplyIn(RequestModel):
    body: Body | None = None
    # Fill the body from a canned reply instead ({reference} and {subject} are filled in).
    canned_reply_id: str | None = None


class StaffNoteIn(RequestModel):
    body: Body


class AssignIn(RequestModel):
    # Null returns the ticket to the queue.
    assignee_id: str | None


class TicketUpdateIn(RequestModel):
    status: Status | None = None
    priority: Priority | None = None
    category: Category | None = None


class CannedReplyIn(RequestModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    body: Body
    category: Category | None = None


class CannedReplyOut(BaseModel):
    id: str
    title: str
    body: str
    category: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class CannedReplyList(BaseModel):
    items: list[CannedReplyOut]


class DispatchOut(BaseModel):
    assigned: list[dict[str, str]]


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
