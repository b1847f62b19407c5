"""SLA timers: due times fixed from the priority, breaches computed against the clock.

A first response is the first public agent reply; the resolution timer stops when the ticket
is resolved and runs again (to the same due time) if the customer reopens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ewallet.kit.clock import as_utc
from ewallet.support.policy import SupportPolicy


class SlaTimes(Protocol):
    """What the SLA is judged from: a ticket row (ORM or Core) has these columns."""

    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def sla_first_response_due_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def sla_resolution_due_at(self) -> datetime: ...


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


def sla_state(ticket: SlaTimes, *, now: datetime) -> SlaState:
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
