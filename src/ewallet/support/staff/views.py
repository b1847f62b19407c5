"""What the staff desk's use cases hand the console: a queue page or a ticket with the names
and choices an agent's screen needs (who may be assigned, canned replies, next states)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from ewallet.support.views import StaffThread


@dataclass(frozen=True, slots=True)
class AgentName:
    """A staff member as an agent's screen names them: the display name, else the email."""

    staff_id: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class CannedChoice:
    """A canned reply offered on a ticket, its text already filled in for that ticket."""

    id: str
    title: str
    text: str


class QueueTicket(NamedTuple):
    """A ticket as a row of the queue shows it: what it is about, its state, who has it, and
    its SLA times (:class:`ewallet.support.sla.SlaTimes`), never its thread.

    A named tuple rather than a frozen dataclass, as immutable: made 50 times a page from
    the statement's rows, and a frozen dataclass of 14 fields costs about seven times as
    much to make (each field set through ``object.__setattr__``)."""

    id: str
    reference: str
    subject: str
    status: str
    priority: str
    category: str
    channel: str
    assignee_id: str | None
    created_at: datetime
    first_response_at: datetime | None
    sla_first_response_due_at: datetime
    sla_resolution_due_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of the queue, newest first, with the cursor of the next (older) page and the
    moment it was read (what its SLA clocks are judged against)."""

    items: list[QueueTicket]
    next_cursor: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class QueueDesk:
    """A page of the queue, the agents a ticket may go to, and the names of the staff the
    page mentions (assignees, including ones no longer active)."""

    page: QueuePage
    agents: list[AgentName]
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class TicketDesk:
    """A ticket as an agent works on it: the whole thread, the canned replies for its
    category (filled in), the agents it may go to, the names of the staff it mentions, and
    the states it may move to now (none when closed)."""

    found: StaffThread
    canned_replies: list[CannedChoice]
    agents: list[AgentName]
    names: dict[str, str]
    next_statuses: tuple[str, ...]
