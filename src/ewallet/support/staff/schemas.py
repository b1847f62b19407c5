"""Bodies of the staff ticket API (``/v1/staff/support``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from ewallet.kit.request_model import RequestModel
from ewallet.models.support import (
    SupportAttachment,
    SupportCannedReply,
    SupportTicket,
    SupportTicketMessage,
)
from ewallet.support.schemas import (
    AttachmentOut,
    Body,
    Category,
    MessageOut,
    Priority,
    Status,
)
from ewallet.support.sla import sla_state
from ewallet.support.views import Dispatched, StaffPage, StaffThread


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

    @classmethod
    def thread(cls, found: StaffThread) -> StaffTicketOut:
        """The whole ticket: every message and internal note, and the attachments."""
        thread = found.thread
        return cls.of(
            thread.ticket, now=found.now, messages=thread.messages, attachments=thread.attachments
        )


class StaffTicketList(BaseModel):
    items: list[StaffTicketOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: StaffPage) -> StaffTicketList:
        return cls(
            items=[StaffTicketOut.of(ticket, now=page.now) for ticket in page.items],
            next_cursor=page.next_cursor,
        )


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

    @classmethod
    def of(cls, reply: SupportCannedReply) -> CannedReplyOut:
        return cls(
            id=reply.id,
            title=reply.title,
            body=reply.body,
            category=reply.category,
            created_by=reply.created_by,
            created_at=reply.created_at,
            updated_at=reply.updated_at,
        )


class CannedReplyList(BaseModel):
    items: list[CannedReplyOut]


class DispatchOut(BaseModel):
    assigned: list[dict[str, str]]

    @classmethod
    def of(cls, dispatched: list[Dispatched]) -> DispatchOut:
        return cls(
            assigned=[{"ticket_id": d.ticket_id, "assignee_id": d.assignee_id} for d in dispatched]
        )
