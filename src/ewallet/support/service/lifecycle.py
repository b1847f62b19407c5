"""Staff changes to a ticket (status, priority, category, assignee) and the customer's rating.

Each runs in the caller's unit of work on the locked ticket. Whenever an agent's load goes
down (a ticket resolved, closed or moved away), the queue is dispatched in the same unit so a
waiting ticket never waits for a free place that already exists.
"""

from __future__ import annotations

from typing import Final

from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.models.operations import StaffRole
from ewallet.models.support import (
    TICKET_CATEGORIES,
    TICKET_PRIORITIES,
    SupportTicket,
    TicketStatus,
)
from ewallet.services import Services
from ewallet.support import repository as repo
from ewallet.support.errors import (
    AgentNotAvailableError,
    TicketAlreadyRatedError,
    TicketClosedError,
    TicketNotResolvedError,
    TicketTransitionError,
)
from ewallet.support.policy import SupportPolicy
from ewallet.support.service import assignment
from ewallet.support.service.tickets import locked_ticket
from ewallet.support.sla import due_times

_S = TicketStatus
# Where staff may move a ticket from each state; closed is final.
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    _S.NEW: frozenset({_S.OPEN, _S.PENDING_CUSTOMER, _S.RESOLVED, _S.CLOSED}),
    _S.OPEN: frozenset({_S.PENDING_CUSTOMER, _S.RESOLVED, _S.CLOSED}),
    _S.PENDING_CUSTOMER: frozenset({_S.OPEN, _S.RESOLVED, _S.CLOSED}),
    _S.RESOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}
ASSIGNABLE_ROLES: Final = (StaffRole.SUPPORT_AGENT, StaffRole.ADMIN)


def may_become(ticket: SupportTicket, status: str) -> bool:
    """Does the state machine allow ``ticket`` to move to ``status``?"""
    return status in TRANSITIONS.get(ticket.status, frozenset())


async def _open_ticket(uow: UnitOfWork, ticket_id: str) -> SupportTicket:
    ticket = await locked_ticket(uow, ticket_id)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosedError("a closed ticket cannot change")
    return ticket


async def change_status(
    services: Services, uow: UnitOfWork, *, ticket_id: str, status: str
) -> SupportTicket:
    """Move the ticket to ``status``; resolving or closing stops the resolution timer.

    Refusals, in order: unknown ticket (``not_found``), a closed ticket (``ticket_closed``),
    a move the state machine does not allow (``ticket_transition_invalid``).
    """
    ticket = await _open_ticket(uow, ticket_id)
    if not may_become(ticket, status):
        raise TicketTransitionError(f"a {ticket.status} ticket cannot become {status}")
    now = services.clock.now()
    ticket.status = status
    ticket.updated_at = now
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
    await uow.session.flush()
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) or ticket.assignee_id is None:
        await assignment.dispatch_queue(services, uow)
    return ticket


async def change_priority(
    services: Services, uow: UnitOfWork, *, ticket_id: str, priority: str
) -> SupportTicket:
    """A new priority re-times both SLA timers from when the ticket opened.

    Refusals, in order: unknown priority (``validation_error``), unknown ticket, closed ticket.
    """
    if priority not in TICKET_PRIORITIES:
        raise ValidationFailedError(f"unknown priority {priority!r}")
    ticket = await _open_ticket(uow, ticket_id)
    due = due_times(SupportPolicy.of(services), priority=priority, opened_at=ticket.created_at)
    ticket.priority = priority
    ticket.sla_first_response_due_at = due.first_response
    ticket.sla_resolution_due_at = due.resolution
    ticket.updated_at = services.clock.now()
    await uow.session.flush()
    return ticket


async def change_category(
    services: Services, uow: UnitOfWork, *, ticket_id: str, category: str
) -> SupportTicket:
    """A new category; refusals, in order: unknown category, unknown ticket, closed ticket."""
    if category not in TICKET_CATEGORIES:
        raise ValidationFailedError(f"unknown category {category!r}")
    ticket = await _open_ticket(uow, ticket_id)
    ticket.category = category
    ticket.updated_at = services.clock.now()
    await uow.session.flush()
    return ticket


async def assign_to(
    services: Services, uow: UnitOfWork, *, ticket_id: str, staff_id: str | None
) -> SupportTicket:
    """Assign (or, with None, return to the queue). A person's choice may exceed the limit.

    Refusals, in order: unknown ticket, closed ticket, ``staff_id`` not an active support
    agent or admin (``agent_not_available``). Every agent's state row is locked, the same
    order automatic assignment takes.
    """
    ticket = await _open_ticket(uow, ticket_id)
    if staff_id is not None and not await repo.assignable_agent(
        uow.session, staff_id, roles=ASSIGNABLE_ROLES
    ):
        raise AgentNotAvailableError("no active support agent with this id")
    # Taking every agent's lock keeps manual moves and automatic assignment in one order.
    await assignment.agent_loads(uow)
    previous = ticket.assignee_id
    now = services.clock.now()
    ticket.assignee_id = staff_id
    ticket.assigned_at = now if staff_id is not None else None
    ticket.updated_at = now
    await uow.session.flush()
    if previous != staff_id:
        await assignment.dispatch_queue(services, uow)
    return ticket


async def rate_ticket(
    services: Services,
    uow: UnitOfWork,
    *,
    ticket_id: str,
    user_id: str,
    rating: int,
    comment: str | None,
) -> SupportTicket:
    """The customer's 1-5 rating, once, after the ticket was resolved (or closed).

    Refusals, in order: a rating outside 1-5 (``validation_error``), unknown ticket or
    another customer's (``not_found``), rated before (``ticket_already_rated``), not yet
    resolved (``ticket_not_resolved``).
    """
    if not 1 <= rating <= 5:
        raise ValidationFailedError("rating must be 1 to 5")
    ticket = await locked_ticket(uow, ticket_id)
    if ticket.user_id != user_id:
        raise NotFoundError("no such ticket")
    if ticket.rated_at is not None:
        raise TicketAlreadyRatedError("this ticket has been rated")
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise TicketNotResolvedError("rate the ticket once it is resolved")
    ticket.rating = rating
    ticket.rating_comment = (comment or "").strip()[:1000] or None
    ticket.rated_at = services.clock.now()
    await uow.session.flush()
    return ticket
