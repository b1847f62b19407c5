"""Staff changes to a ticket (status, priority, category, assignee) and the customer's rating.

Each runs in the caller's unit of work on the locked ticket. Whenever an agent's load goes
down (a ticket resolved, closed or moved away), the queue is dispatched in the same unit so a
waiting ticket never waits for a free place that already exists.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.models.operations import Staff
from ewallet.models.support import TICKET_CATEGORIES, TICKET_PRIORITIES, SupportTicket
from ewallet.support import assignment
from ewallet.support.errors import (
    AgentNotAvailableError,
    TicketAlreadyRatedError,
    TicketClosedError,
    TicketNotResolvedError,
    TicketTransitionError,
)
from ewallet.support.policy import SupportPolicy
from ewallet.support.sla import due_times
from ewallet.support.tickets import locked_ticket

# Where staff may move a ticket from each state; closed is final.
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "new": frozenset({"open", "pending_customer", "resolved", "closed"}),
    "open": frozenset({"pending_customer", "resolved", "closed"}),
    "pending_customer": frozenset({"open", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}
ASSIGNABLE_ROLES: Final = ("support_agent", "admin")


async def change_status(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy, ticket_id: str, status: str
) -> SupportTicket:
    ticket = await locked_ticket(uow, ticket_id)
    if ticket.status == "closed":
        raise TicketClosedError("a closed ticket cannot change")
    if status not in TRANSITIONS.get(ticket.status, frozenset()):
        raise TicketTransitionError(f"a {ticket.status} ticket cannot become {status}")
    now = clock.now()
    ticket.status = status
    ticket.updated_at = now
    if status == "resolved":
        ticket.resolved_at = now
    elif status == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
    await uow.session.flush()
    if status in ("resolved", "closed") or ticket.assignee_id is None:
        await assignment.dispatch_queue(uow, clock=clock, policy=policy)
    return ticket


async def change_priority(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy, ticket_id: str, priority: str
) -> SupportTicket:
    """A new priority re-times both SLA timers from when the ticket opened."""
    if priority not in TICKET_PRIORITIES:
        raise ValidationFailedError(f"unknown priority {priority!r}")
    ticket = await locked_ticket(uow, ticket_id)
    if ticket.status == "closed":
        raise TicketClosedError("a closed ticket cannot change")
    due = due_times(policy, priority=priority, opened_at=ticket.created_at)
    ticket.priority = priority
    ticket.sla_first_response_due_at = due.first_response
    ticket.sla_resolution_due_at = due.resolution
    ticket.updated_at = clock.now()
    await uow.session.flush()
    return ticket


async def change_category(
    uow: UnitOfWork, *, clock: Clock, ticket_id: str, category: str
) -> SupportTicket:
    if category not in TICKET_CATEGORIES:
        raise ValidationFailedError(f"unknown category {category!r}")
    ticket = await locked_ticket(uow, ticket_id)
    if ticket.status == "closed":
        raise TicketClosedError("a closed ticket cannot change")
    ticket.category = category
    ticket.updated_at = clock.now()
    await uow.session.flush()
    return ticket


async def assign_to(
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: SupportPolicy,
    ticket_id: str,
    staff_id: str | None,
) -> SupportTicket:
    """Assign (or, with None, return to the queue). A person's choice may exceed the limit."""
    ticket = await locked_ticket(uow, ticket_id)
    if ticket.status == "closed":
        raise TicketClosedError("a closed ticket cannot change")
    if staff_id is not None:
        agent = (
            await uow.session.execute(
                select(Staff).where(
                    Staff.id == staff_id,
                    Staff.status == "active",
                    Staff.role.in_(ASSIGNABLE_ROLES),
                )
            )
        ).scalar_one_or_none()
        if agent is None:
            raise AgentNotAvailableError("no active support agent with this id")
    # Taking every agent's lock keeps manual moves and automatic assignment in one order.
    await assignment.agent_loads(uow)
    previous = ticket.assignee_id
    now = clock.now()
    ticket.assignee_id = staff_id
    ticket.assigned_at = now if staff_id is not None else None
    ticket.updated_at = now
    await uow.session.flush()
    if previous != staff_id:
        await assignment.dispatch_queue(uow, clock=clock, policy=policy)
    return ticket


async def rate_ticket(
    uow: UnitOfWork,
    *,
    clock: Clock,
    ticket_id: str,
    user_id: str,
    rating: int,
    comment: str | None,
) -> SupportTicket:
    """The customer's 1-5 rating, once, after the ticket was resolved (or closed)."""
    if not 1 <= rating <= 5:
        raise ValidationFailedError("rating must be 1 to 5")
    ticket = await locked_ticket(uow, ticket_id)
    if ticket.user_id != user_id:
        raise NotFoundError("no such ticket")
    if ticket.rated_at is not None:
        raise TicketAlreadyRatedError("this ticket has been rated")
    if ticket.status not in ("resolved", "closed"):
        raise TicketNotResolvedError("rate the ticket once it is resolved")
    ticket.rating = rating
    ticket.rating_comment = (comment or "").strip()[:1000] or None
    ticket.rated_at = clock.now()
    await uow.session.flush()
    return ticket
