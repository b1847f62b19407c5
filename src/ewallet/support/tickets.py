"""The ticket service: open tickets, add messages, and the state rules between them.

Every function runs inside the caller's unit of work and never commits, so a ticket opened
from a chat, a mail or an HTTP request commits with whatever else that use case wrote.

States::

    new ──agent reply──▶ pending_customer ──customer message──▶ open ──agent reply──▶ ...
     │                                                            │
     └──────────────── staff: resolved ◀──────────────────────────┘
                           │  customer message reopens (open); staff may close
                           ▼
                        closed (final: takes internal notes only)

The first public agent reply stops the first-response SLA timer; resolving stops the
resolution timer. New tickets are assigned at once when an agent has room (see
:mod:`ewallet.support.assignment`); replies are mailed and noticed through the outbox.
"""

from __future__ import annotations

import secrets
from typing import Final, Literal

from sqlalchemy import select

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.models.identity import User
from ewallet.models.support import (
    TICKET_CATEGORIES,
    TICKET_PRIORITIES,
    SupportTicket,
    SupportTicketMessage,
)
from ewallet.notify.service import notify_user
from ewallet.support import assignment, email_out
from ewallet.support.errors import TicketClosedError
from ewallet.support.policy import SupportPolicy, environment_policy
from ewallet.support.sla import due_times

TicketChannel = Literal["web", "api", "email", "chat", "phone"]
AuthorType = Literal["customer", "agent", "bot", "system"]

REFERENCE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L to misread
SUBJECT_MAX: Final = 200
BODY_MAX: Final = 20_000


def new_reference() -> str:
    """``TKT-`` and 8 random characters (~39 bits): short enough to read out on the phone."""
    return "TKT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def _checked_text(value: str, *, name: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailedError(f"{name} must not be empty")
    return text[:limit]


async def open_ticket(
    uow: UnitOfWork,
    *,
    clock: Clock,
    user_id: str | None,
    email: str | None,
    subject: str,
    body: str,
    channel: TicketChannel,
    category: str | None = None,
    priority: str = "normal",
    author_type: AuthorType = "customer",
    author_id: str | None = None,
    policy: SupportPolicy | None = None,
    email_message_id: str | None = None,
    acknowledge: bool = True,
    phone: str | None = None,
) -> str:
    """Open a ticket with its first message; returns the ticket id (``tkt_...``).

    ``author_type`` is who wrote the first message: the customer, or an agent logging a
    phone call (``author_id`` their staff id; an agent opening a ticket is not its first
    response). A customer with a mail address gets an automatic acknowledgement.
    """
    policy = policy or environment_policy()
    if user_id is None and not email and not phone:
        raise ValidationFailedError(
            "a ticket needs a customer: a user id, an email address or a phone number"
        )
    if priority not in TICKET_PRIORITIES:
        raise ValidationFailedError(f"unknown priority {priority!r}")
    category = category or "other"
    if category not in TICKET_CATEGORIES:
        raise ValidationFailedError(f"unknown category {category!r}")
    subject = _checked_text(subject, name="subject", limit=SUBJECT_MAX)
    body = _checked_text(body, name="body", limit=BODY_MAX)
    now = clock.now()
    due = due_times(policy, priority=priority, opened_at=now)
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
        status="new",
        assignee_id=None,
        created_at=now,
        updated_at=now,
        sla_first_response_due_at=due.first_response,
        sla_resolution_due_at=due.resolution,
    )
    session = uow.session
    session.add(ticket)
    session.add(
        SupportTicketMessage(
            id=new_id("tmsg"),
            ticket_id=ticket.id,
            author_type=author_type,
            author_id=author_id,
            body=body,
            internal=False,
            email_message_id=email_message_id,
            created_at=now,
        )
    )
    await session.flush()
    # Through the queue, so a ticket that waited longer (or is more urgent) goes first.
    await assignment.dispatch_queue(uow, clock=clock, policy=policy)
    if acknowledge:
        await email_out.queue_ticket_acknowledgement(
            session, clock=clock, policy=policy, ticket=ticket
        )
    return ticket.id


async def locked_ticket(uow: UnitOfWork, ticket_id: str) -> SupportTicket:
    """The ticket, locked for this unit of work (PostgreSQL ``FOR UPDATE``); 404 if unknown."""
    ticket = (
        await uow.session.execute(
            select(SupportTicket)
            .where(SupportTicket.id == ticket_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if ticket is None:
        raise NotFoundError("no such ticket")
    return ticket


async def add_message(
    uow: UnitOfWork,
    *,
    clock: Clock,
    ticket_id: str,
    author_type: AuthorType,
    author_id: str | None,
    body: str,
    internal: bool = False,
    policy: SupportPolicy | None = None,
    email_message_id: str | None = None,
    send_email: bool = True,
) -> str:
    """Add a message (or, with ``internal``, an agent's note) and apply the state rules.

    - A customer message on a ``pending_customer`` or ``resolved`` ticket reopens it.
    - The first public agent reply stops the first-response timer; agent replies move the
      ticket to ``pending_customer`` and are noticed (and mailed) to the customer.
    - A closed ticket takes internal notes only (:class:`TicketClosedError` otherwise).
    """
    policy = policy or environment_policy()
    if internal and author_type == "customer":
        raise ValidationFailedError("customers cannot write internal notes")
    body = _checked_text(body, name="body", limit=BODY_MAX)
    ticket = await locked_ticket(uow, ticket_id)
    if author_type == "customer" and author_id is not None and author_id != ticket.user_id:
        raise NotFoundError("no such ticket")  # never confirm another customer's ticket
    if ticket.status == "closed" and not internal:
        raise TicketClosedError("the ticket is closed; open a new one")
    now = clock.now()
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
    session = uow.session
    session.add(message)
    ticket.updated_at = now
    if not internal and author_type == "customer":
        await _on_customer_message(uow, clock=clock, policy=policy, ticket=ticket)
    elif not internal and author_type == "agent":
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if ticket.status in ("new", "open"):
            ticket.status = "pending_customer"
        await session.flush()
        if send_email:
            mailed_as = await email_out.queue_ticket_reply(
                session, clock=clock, policy=policy, ticket=ticket, message=message
            )
            if mailed_as is not None:
                message.email_message_id = mailed_as
        await _notice_reply(uow, clock=clock, ticket=ticket)
    await session.flush()
    return message.id


async def _on_customer_message(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy, ticket: SupportTicket
) -> None:
    if ticket.status in ("pending_customer", "resolved"):
        ticket.status = "open"
        ticket.resolved_at = None
        await uow.session.flush()
        if ticket.assignee_id is None:
            await assignment.dispatch_queue(uow, clock=clock, policy=policy)


async def _notice_reply(uow: UnitOfWork, *, clock: Clock, ticket: SupportTicket) -> None:
    if ticket.user_id is None:
        return
    user = await uow.session.get(User, ticket.user_id)
    if user is None:
        return
    await notify_user(
        uow.session,
        clock=clock,
        user=user,
        kind="support_ticket_replied",
        params={"reference": ticket.reference, "subject": ticket.subject},
        sms=False,
        security=False,
    )
