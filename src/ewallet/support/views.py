"""What support's services hand back, and what other features may read.

Ticket rows themselves are the ORM classes of :mod:`ewallet.models.support`, returned only
after their unit of work ended (expire-on-commit is off), so reading them is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.models.support import (
    InboundDisposition,
    SupportAttachment,
    SupportTicket,
    SupportTicketMessage,
)


@dataclass(frozen=True, slots=True)
class TicketThread:
    """A ticket with the messages (and their attachments) its reader may see."""

    ticket: SupportTicket
    messages: list[SupportTicketMessage]
    attachments: list[SupportAttachment]


@dataclass(frozen=True, slots=True)
class StaffThread:
    """A ticket as staff read it, and the moment the SLA timers were judged at."""

    thread: TicketThread
    now: datetime


@dataclass(frozen=True, slots=True)
class StaffPage:
    items: list[SupportTicket]
    next_cursor: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    """A stored attachment's bytes for download."""

    content: bytes
    content_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent's round-robin position (0: never assigned)."""

    staff_id: str
    last_assigned_seq: int


@dataclass(slots=True)
class AgentLoad:
    """An agent's active tickets and round-robin position while a dispatch runs."""

    staff_id: str
    active: int
    last_assigned_seq: int


@dataclass(frozen=True, slots=True)
class Dispatched:
    ticket_id: str
    assignee_id: str


@dataclass(frozen=True, slots=True)
class SupportEmail:
    """The customer's support mail address, and whether they proved it."""

    email: str | None
    verified: bool


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The staff queue's filters; None means "any"."""

    status: str | None = None
    priority: str | None = None
    category: str | None = None
    channel: str | None = None
    # An agent id, "none" (the unassigned queue) or None (everyone's).
    assignee: str | None = None
    breached: bool | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundResult:
    """What an incoming mail did, as recorded in ``support_inbound_mail``."""

    disposition: InboundDisposition
    ticket_id: str | None
    detail: str | None = None
