"""SLA timers: due times fixed from the priority, breaches computed against the clock.

A first response is the first public agent reply; the resolution timer stops when the ticket
is resolved and runs again (to the same due time) if the customer reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from ewallet.kit.clock import as_utc
from ewallet.models.support import SupportTicket
from ewallet.support.policy import SupportPolicy


@dataclass(frozen=True, slots=True)
class DueTimes:
    first_response: datetime
    resolution: datetime


def due_times(policy: SupportPolicy, *, priority: str, opened_at: datetime) -> DueTimes:
    return DueTimes(
        first_response=opened_at + policy.first_response[priority],
        resolution=opened_at + policy.resolution[priority],
    )


@dataclass(frozen=True, slots=True)
class SlaState:
    first_response_breached: bool
    resolution_breached: bool


def sla_state(ticket: Any, *, now: datetime) -> SlaState:
    """Breached: the timer ran past its due time (stopped late, or still running and late)."""
    first_done = ticket.first_response_at
    first_breached = (
        as_utc(first_done) > as_utc(ticket.sla_first_response_due_at)
        if first_done is not None
        else now > as_utc(ticket.sla_first_response_due_at)
    )
    resolved = ticket.resolved_at or ticket.closed_at
    resolution_breached = (
        as_utc(resolved) > as_utc(ticket.sla_resolution_due_at)
        if resolved is not None
        else now > as_utc(ticket.sla_resolution_due_at)
    )
    return SlaState(first_breached, resolution_breached)


def breached_condition(now: datetime) -> ColumnElement[bool]:
    """SQL for "some SLA timer is breached", for the staff queue filter (never NULL)."""
    t = SupportTicket
    first = or_(
        and_(t.first_response_at.is_(None), t.sla_first_response_due_at < now),
        and_(t.first_response_at.is_not(None), t.first_response_at > t.sla_first_response_due_at),
    )
    # Closing sets resolved_at too, so resolved_at alone tells whether the timer stopped.
    resolution = or_(
        and_(t.resolved_at.is_(None), t.sla_resolution_due_at < now),
        and_(t.resolved_at.is_not(None), t.resolved_at > t.sla_resolution_due_at),
    )
    return or_(first, resolution)
