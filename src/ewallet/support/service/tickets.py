"""Opening tickets and adding messages, with the state rules between them (in a caller's unit).

States::

    new ──agent reply──▶ pending_customer ──customer message──▶ open ──agent reply──▶ ...
     │                                                            │
     └──────────────── staff: resolved ◀──────────────────────────┘
                           │  customer message reopens (open); staff may close
                           ▼
                        closed (final: takes internal notes only)

The first public agent reply stops the first-response SLA timer; resolving stops the
resolution timer. New tickets are assigned at once when an agent has room (see
:mod:`ewallet.support.service.assignment`); replies are mailed and noticed through the outbox.
Every function runs in the caller's unit of work ``uow`` and never commits.
"""

from __future__ import annotations

import secrets
from typing import Final

from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.models.support import (
    TICKET_CATEGORIES,
    TICKET_PRIORITIES,
    AuthorType,
    SupportTicket,
    SupportTicketMessage,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from ewallet.notify.service import notify_user
from ewallet.services import Services
from ewallet.support import repository as repo
from ewallet.support.errors import TicketClosedError
from ewallet.support.mail import service as mail
from ewallet.support.policy import SupportPolicy
from ewallet.support.service import assignment
from ewallet.support.sla import due_times

REFERENCE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L to misread
SUBJECT_MAX: Final = 200
BODY_MAX: Final = 20_000


def new_reference() -> str:
    """``TKT-`` and 8 random characters (~39 bits): short enough to read out on the phone."""
    return "TKT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def checked_text(value: str, *, name: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailedError(f"{name} must not be empty")
    return text[:limit]


async def open_ticket(
    services: Services,
    uow: UnitOfWork,
    *,
    user_id: str | None,
    email: str | None,
    subject: str,
    body: str,
    channel: TicketChannel,
    category: str | None = None,
    priority: str = TicketPriority.NORMAL,
    author_type: AuthorType = AuthorType.CUSTOMER,
    author_id: str | None = None,
    email_message_id: str | None = None,
    acknowledge: bool = True,
    phone: str | None = None,
) -> str:
    """Open a ticket with its first message in ``uow``; returns the ticket id (``tkt_...``).

    ``author_type`` is who wrote the first message: the customer, or an agent logging a
    phone call (``author_id`` their staff id; an agent opening a ticket is not its first
    response). A customer with a mail address gets an automatic acknowledgement (unless
    ``acknowledge`` is off). The ticket goes through the assignment queue at once.

    Refusals (``validation_error``), in order: no customer (user id, email or phone),
    an unknown priority, an unknown category, an empty subject, an empty body.
    """
    if user_id is None and not email and not phone:
        raise ValidationFailedError(
            "a ticket needs a customer: a user id, an email address or a phone number"
        )
    if priority not in TICKET_PRIORITIES:
        raise ValidationFailedError(f"unknown priority {priority!r}")
    category = category or TicketCategory.OTHER
    if category not in TICKET_CATEGORIES:
        raise ValidationFailedError(f"unknown category {category!r}")
    subject = checked_text(subject, name="subject", limit=SUBJECT_MAX)
    body = checked_text(body, name="body", limit=BODY_MAX)
    now = services.clock.now()
    due = due_times(SupportPolicy.of(services), priority=priority, opened_at=now)
    ticket = SupportTicket(
        id=new_id("tkt"),
        reference=new_reference(),
        user_id=user_id,
        email=email.strip().lower() if email else None,
        phone=phone,
        subject=subject,
        channel=channel,
        category=category,
        priority=priority,
        status=TicketStatus.NEW,
        assignee_id=None,
        created_at=now,
        updated_at=now,
        sla_first_response_due_at=due.first_response,
        sla_resolution_due_at=due.resolution,
    )
    first = SupportTicketMessage(
        id=new_id("tmsg"),
        ticket_id=ticket.id,
        author_type=author_type,
        author_id=author_id,
        body=body,
        internal=False,
        email_message_id=email_message_id,
        created_at=now,
    )
    await repo.add_ticket(uow.session, ticket, first)
    # Through the queue, so a ticket that waited longer (or is more urgent) goes first.
    await assignment.dispatch_queue(services, uow)
    if acknowledge:
        await mail.queue_ticket_acknowledgement(services, uow, ticket=ticket)
    return ticket.id


async def find_ticket(uow: UnitOfWork, ticket_id: str) -> SupportTicket | None:
    """The ticket (not locked), or None."""
    return await repo.ticket(uow.session, ticket_id)


async def locked_ticket(uow: UnitOfWork, ticket_id: str) -> SupportTicket:
    """The ticket, locked for this unit of work (PostgreSQL ``FOR UPDATE``); 404 if unknown."""
    ticket = await repo.locked_ticket(uow.session, ticket_id)
    if ticket is None:
        raise NotFoundError("no such ticket")
    return ticket


async def add_message(
    services: Services,
    uow: UnitOfWork,
    *,
    ticket_id: str,
    author_type: AuthorType,
    author_id: str | None,
    body: str,
    internal: bool = False,
    email_message_id: str | None = None,
    send_email: bool = True,
) -> str:
    """Add a message (or, with ``internal``, an agent's note) in ``uow`` and apply the state rules.

    - A customer message on a ``pending_customer`` or ``resolved`` ticket reopens it.
    - The first public agent reply stops the first-response timer; agent replies move the
      ticket to ``pending_customer`` and are noticed (and mailed) to the customer.

    Refusals, in order: a customer's internal note and an empty body (``validation_error``),
    an unknown ticket or another customer's (``not_found``: never confirmed), a public
    message on a closed ticket (``ticket_closed``). The ticket row is locked first.
    """
    if internal and author_type == AuthorType.CUSTOMER:
        raise ValidationFailedError("customers cannot write internal notes")
    body = checked_text(body, name="body", limit=BODY_MAX)
    ticket = await locked_ticket(uow, ticket_id)
    if author_type == AuthorType.CUSTOMER and author_id is not None and author_id != ticket.user_id:
        raise NotFoundError("no such ticket")  # never confirm another customer's ticket
    if ticket.status == TicketStatus.CLOSED and not internal:
        raise TicketClosedError("the ticket is closed; open a new one")
    now = services.clock.now()
    message = SupportTicketMessage(
        id=new_id("tmsg"),
        ticket_id=ticket.id,
        author_type=author_type,
        author_id=author_id,
        body=body,
        internal=internal,
        email_message_id=email_message_id,
        created_at=now,
    )
    ticket.updated_at = now
    await repo.add_message(uow.session, message)
    if not internal and author_type == AuthorType.CUSTOMER:
        await _on_customer_message(services, uow, ticket)
    elif not internal and author_type == AuthorType.AGENT:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if ticket.status in (TicketStatus.NEW, TicketStatus.OPEN):
            ticket.status = TicketStatus.PENDING_CUSTOMER
        await uow.session.flush()
        if send_email:
            mailed_as = await mail.queue_ticket_reply(services, uow, ticket=ticket, message=message)
            if mailed_as is not None:
                message.email_message_id = mailed_as
        await _notice_reply(services, uow, ticket)
    await uow.session.flush()
    return message.id


async def _on_customer_message(services: Services, uow: UnitOfWork, ticket: SupportTicket) -> None:
    if ticket.status in (TicketStatus.PENDING_CUSTOMER, TicketStatus.RESOLVED):
        ticket.status = TicketStatus.OPEN
        ticket.resolved_at = None
        await uow.session.flush()
        if ticket.assignee_id is None:
            await assignment.dispatch_queue(services, uow)


async def _notice_reply(services: Services, uow: UnitOfWork, ticket: SupportTicket) -> None:
    if ticket.user_id is None:
        return
    user = await repo.user(uow.session, ticket.user_id)
    if user is None:
        return
    await notify_user(
        uow.session,
        clock=services.clock,
        user=user,
        kind="support_ticket_replied",
        params={"reference": ticket.reference, "subject": ticket.subject},
        sms=False,
        security=False,
    )
