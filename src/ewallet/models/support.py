"""Support tickets: the ticket, its messages and attachments, agents' load, canned replies, mail.

A ticket's SLA due times are fixed when it opens (from its priority) and moved when the
priority changes; whether a timer is breached is computed from them and the clock, so no job
has to flip a flag and no flag can go stale. Internal notes are messages with ``internal``
set: every customer-facing read filters them out in the query, not in the view.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketCategory(StrEnum):
    ACCOUNT = "account"
    PAYMENT = "payment"
    CARD = "card"
    TOPUP = "topup"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    DISPUTE = "dispute"
    COMPLAINT = "complaint"
    OTHER = "other"


class TicketChannel(StrEnum):
    WEB = "web"
    API = "api"
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"


class AuthorType(StrEnum):
    """Who wrote a ticket message."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class InboundDisposition(StrEnum):
    """What became of an incoming support mail."""

    OPENED = "opened"
    CONTINUED = "continued"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    REJECTED = "rejected"


# The tickets an agent is working on (and a customer's "open" tickets): not resolved or closed.
ACTIVE_TICKET_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING_CUSTOMER)

TICKET_STATUSES = tuple(status.value for status in TicketStatus)
TICKET_PRIORITIES = tuple(priority.value for priority in TicketPriority)
TICKET_CATEGORIES = tuple(category.value for category in TicketCategory)
TICKET_CHANNELS = tuple(channel.value for channel in TicketChannel)
AUTHOR_TYPES = tuple(author.value for author in AuthorType)
INBOUND_DISPOSITIONS = tuple(disposition.value for disposition in InboundDisposition)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class SupportTicket(Base):
    __tablename__ = "support_tickets"
    __table_args__ = (
        CheckConstraint(_in("status", TICKET_STATUSES), name="status_known"),
        CheckConstraint(_in("priority", TICKET_PRIORITIES), name="priority_known"),
        CheckConstraint(_in("category", TICKET_CATEGORIES), name="category_known"),
        CheckConstraint(_in("channel", TICKET_CHANNELS), name="channel_known"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        CheckConstraint(
            "user_id IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL", name="has_customer"
        ),
        Index("ix_support_tickets_user_id", "user_id", "id"),
        Index("ix_support_tickets_assignee_id_status", "assignee_id", "status"),
        Index("ix_support_tickets_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "TKT-XXXXXXXX": the token in mail subjects and reply-to plus-addresses.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("users.id"))
    # Where the customer writes from (email tickets); lower-cased.
    email: Mapped[str | None] = mapped_column(String(254))
    # A caller without an account (a phone call an agent logged): the number, E.164.
    phone: Mapped[str | None] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(12))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("staff.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sla_resolution_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(1000))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SupportTicketMessage(Base):
    __tablename__ = "support_ticket_messages"
    __table_args__ = (
        CheckConstraint(_in("author_type", AUTHOR_TYPES), name="author_type_known"),
        Index("ix_support_ticket_messages_ticket_id", "ticket_id", "id"),
        Index("ix_support_ticket_messages_email_message_id", "email_message_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), ForeignKey("support_tickets.id"))
    author_type: Mapped[str] = mapped_column(String(10))
    # users.id for customers, staff.id for agents; null for bots, the system and email-only.
    author_id: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # The RFC 5322 Message-ID (without <>) of the mail that brought or carried this message.
    email_message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupportAttachment(Base):
    """A file that came with a mail; refused ones are kept as a record without content."""

    __tablename__ = "support_attachments"
    __table_args__ = (Index("ix_support_attachments_ticket_id", "ticket_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(32), ForeignKey("support_tickets.id"))
    message_id: Mapped[str] = mapped_column(String(32), ForeignKey("support_ticket_messages.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Why it was not kept (too large, type not allowed); null when stored.
    rejected_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupportAgentState(Base):
    """One row per agent ever considered for assignment: the round-robin position and a lock."""

    __tablename__ = "support_agent_states"

    staff_id: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"), primary_key=True)
    # Position in the round robin: 0 = never assigned; each assignment takes max + 1.
    last_assigned_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SupportCannedReply(Base):
    __tablename__ = "support_canned_replies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupportInboundMail(Base):
    """Every mail the listener accepted and what became of it (bounces are recorded here)."""

    __tablename__ = "support_inbound_mail"
    __table_args__ = (
        CheckConstraint(_in("disposition", INBOUND_DISPOSITIONS), name="disposition_known"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    email_message_id: Mapped[str | None] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    disposition: Mapped[str] = mapped_column(String(10))
    ticket_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("support_tickets.id"))
    detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EmailMessage(Base):
    """A mail the development ``outbox`` email provider kept instead of sending."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_recipient_id", "recipient", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(254))
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # The outbox event that produced it: a redelivered event is not stored twice.
    event_id: Mapped[int | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupportCustomerEmail(Base):
    """An email address a customer proved is theirs (a code sent to it), for mail matching."""

    __tablename__ = "support_customer_emails"
    __table_args__ = (
        # A proven address belongs to one customer; unproven claims may collide.
        Index(
            "uq_support_customer_emails_verified_email",
            "email",
            unique=True,
            postgresql_where=text("verified_at IS NOT NULL"),
            sqlite_where=text("verified_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
