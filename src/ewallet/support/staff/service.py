"""The staff ticket queue's use cases (support agents and admins), each audit-logged.

Every function is a whole use case in one unit of work for the staff member ``actor``:
reading a ticket, downloading an attachment and every change are written to the audit log
in the same unit as the action itself (subject ``support_ticket``), so a refused or failed
action leaves no event and a done one always has its event.
"""

from __future__ import annotations

from typing import Any, Final

from ewallet.audit.service import Actor, record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.models.support import (
    TICKET_STATUSES,
    AuthorType,
    SupportCannedReply,
    SupportTicket,
)
from ewallet.services import Services
from ewallet.support import repository as tickets_repo
from ewallet.support.service import assignment, lifecycle, tickets
from ewallet.support.staff import repository as repo
from ewallet.support.staff.views import (
    AgentName,
    CannedChoice,
    QueueDesk,
    QueuePage,
    TicketDesk,
)
from ewallet.support.views import Attachment, Dispatched, QueueFilter, StaffPage, StaffThread

SUBJECT: Final = "support_ticket"


def _staff_id(actor: Actor) -> str:
    if actor.id is None:
        raise ValueError("a staff action needs the staff member's id")
    return actor.id


async def _audit(
    services: Services, uow: UnitOfWork, actor: Actor, action: str, subject_id: str, **details: Any
) -> None:
    await record_event(
        await uow.connection(),
        clock=services.clock,
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=subject_id,
        details=details,
    )


async def _thread(services: Services, uow: UnitOfWork, ticket_id: str) -> StaffThread:
    thread = await tickets_repo.ticket_thread(
        uow.session, ticket_id=ticket_id, user_id=None, include_internal=True
    )
    if thread is None:
        raise NotFoundError("no such ticket")
    return StaffThread(thread, services.clock.now())


def _own_queue(actor: Actor, filters: QueueFilter) -> QueueFilter:
    """``assignee="me"`` made the actor's own id."""
    if filters.assignee != "me":
        return filters
    return QueueFilter(
        status=filters.status,
        priority=filters.priority,
        category=filters.category,
        channel=filters.channel,
        assignee=_staff_id(actor),
        breached=filters.breached,
        user_id=filters.user_id,
    )


async def _queue_page(
    services: Services,
    uow: UnitOfWork,
    actor: Actor,
    *,
    filters: QueueFilter,
    limit: int,
    cursor: str | None,
) -> StaffPage:
    now = services.clock.now()
    page = await repo.staff_tickets(
        uow.session, filters=_own_queue(actor, filters), now=now, limit=limit, cursor=cursor
    )
    return StaffPage(page.items, page.next_cursor, now)


async def _audit_listing(services: Services, uow: UnitOfWork, actor: Actor, *, count: int) -> None:
    await _audit(services, uow, actor, "support.tickets.listed", "queue", count=count)


async def queue(
    services: Services, actor: Actor, *, filters: QueueFilter, limit: int, cursor: str | None
) -> StaffPage:
    """The queue as filtered (``assignee="me"`` is the actor's own), newest first; audited."""

    async def work(uow: UnitOfWork) -> StaffPage:
        page = await _queue_page(services, uow, actor, filters=filters, limit=limit, cursor=cursor)
        await _audit_listing(services, uow, actor, count=len(page.items))
        return page

    return await run_unit(services.engine, work)


async def _agents(uow: UnitOfWork) -> list[AgentName]:
    conn = await uow.connection()
    return await repo.active_staff_with_roles(conn, roles=lifecycle.ASSIGNABLE_ROLES)


async def queue_desk(
    services: Services, actor: Actor, *, filters: QueueFilter, limit: int, cursor: str | None
) -> QueueDesk:
    """:func:`queue` (audited the same way) with what the console's queue shows beside it:
    the agents a ticket may go to (the assignee filter) and the assignees' names. One unit,
    Core reads of the columns a row shows (:class:`QueueTicket`), the audit event last."""

    async def work(uow: UnitOfWork) -> QueueDesk:
        conn = await uow.connection()
        now = services.clock.now()
        found = await repo.queue_page(
            conn, filters=_own_queue(actor, filters), now=now, limit=limit, cursor=cursor
        )
        page = QueuePage(found.items, found.next_cursor, now)
        assignees = {t.assignee_id for t in page.items if t.assignee_id is not None}
        desk = QueueDesk(page, await _agents(uow), await repo.staff_names(conn, assignees))
        # Last: the audit chain's head stays locked from here to the commit.
        await _audit_listing(services, uow, actor, count=len(page.items))
        return desk

    return await run_unit(services.engine, work)


async def view_ticket(services: Services, actor: Actor, *, ticket_id: str) -> StaffThread:
    """One ticket with every message and internal note; refusal: ``not_found``; audited."""

    async def work(uow: UnitOfWork) -> StaffThread:
        found = await _thread(services, uow, ticket_id)
        await _audit(services, uow, actor, "support.ticket.viewed", ticket_id)
        return found

    return await run_unit(services.engine, work)


async def ticket_desk(services: Services, actor: Actor, *, ticket_id: str) -> TicketDesk:
    """:func:`view_ticket` (audited the same way) with what the console's ticket page
    offers: the canned replies for the ticket's category filled in for it, the agents it may
    go to, the names of the staff in the thread, and the states it may move to. One unit;
    refusal: ``not_found``."""

    async def work(uow: UnitOfWork) -> TicketDesk:
        found = await _thread(services, uow, ticket_id)
        ticket = found.thread.ticket
        replies = await repo.canned_replies(uow.session, category=ticket.category)
        staff_ids = {
            message.author_id
            for message in found.thread.messages
            if message.author_type == AuthorType.AGENT and message.author_id is not None
        }
        if ticket.assignee_id is not None:
            staff_ids.add(ticket.assignee_id)
        desk = TicketDesk(
            found,
            [CannedChoice(r.id, r.title, fill(r, ticket)) for r in replies],
            await _agents(uow),
            await repo.staff_names(await uow.connection(), staff_ids),
            tuple(status for status in TICKET_STATUSES if lifecycle.may_become(ticket, status)),
        )
        # Last: the audit chain's head stays locked from here to the commit.
        await _audit(services, uow, actor, "support.ticket.viewed", ticket_id)
        return desk

    return await run_unit(services.engine, work)


async def attachment(
    services: Services, actor: Actor, *, ticket_id: str, attachment_id: str
) -> Attachment:
    """A stored attachment's bytes; refused ones (and unknown) are ``not_found``; audited."""

    async def work(uow: UnitOfWork) -> Attachment:
        found = await tickets_repo.attachment(
            uow.session, ticket_id=ticket_id, attachment_id=attachment_id
        )
        if found is None or found.content is None:
            raise NotFoundError("no such stored attachment")
        await _audit(
            services, uow, actor, "support.attachment.viewed", ticket_id, attachment=attachment_id
        )
        return Attachment(found.content, found.content_type, found.filename)

    return await run_unit(services.engine, work)


def fill(reply: SupportCannedReply, ticket: SupportTicket) -> str:
    """The reply's text for this ticket: ``{reference}`` and ``{subject}`` filled in."""
    return reply.body.replace("{reference}", ticket.reference).replace("{subject}", ticket.subject)


async def _canned_reply(uow: UnitOfWork, reply_id: str) -> SupportCannedReply:
    reply = await repo.canned_reply(uow.session, reply_id)
    if reply is None:
        raise NotFoundError("no such canned reply")
    return reply


async def reply(
    services: Services,
    actor: Actor,
    *,
    ticket_id: str,
    body: str | None,
    canned_reply_id: str | None,
) -> StaffThread:
    """Reply to the customer (mailed and noticed), written or from a canned reply; audited.

    Refusals, in order: neither a body nor a canned reply (``validation_error``), an
    unknown ticket or canned reply (``not_found``), then :func:`tickets.add_message`'s.
    """
    if body is None and canned_reply_id is None:
        raise ValidationFailedError("write a body or name a canned reply")

    async def work(uow: UnitOfWork) -> StaffThread:
        text = body or ""
        if canned_reply_id is not None:
            ticket = await tickets.locked_ticket(uow, ticket_id)
            text = fill(await _canned_reply(uow, canned_reply_id), ticket)
        message_id = await tickets.add_message(
            services,
            uow,
            ticket_id=ticket_id,
            author_type=AuthorType.AGENT,
            author_id=_staff_id(actor),
            body=text,
        )
        await _audit(services, uow, actor, "support.ticket.replied", ticket_id, message=message_id)
        return await _thread(services, uow, ticket_id)

    return await run_unit(services.engine, work)


async def note(services: Services, actor: Actor, *, ticket_id: str, body: str) -> StaffThread:
    """An internal note (allowed on a closed ticket too); audited."""

    async def work(uow: UnitOfWork) -> StaffThread:
        message_id = await tickets.add_message(
            services,
            uow,
            ticket_id=ticket_id,
            author_type=AuthorType.AGENT,
            author_id=_staff_id(actor),
            body=body,
            internal=True,
        )
        await _audit(services, uow, actor, "support.ticket.noted", ticket_id, message=message_id)
        return await _thread(services, uow, ticket_id)

    return await run_unit(services.engine, work)


async def assign(
    services: Services, actor: Actor, *, ticket_id: str, assignee_id: str | None
) -> StaffThread:
    """Assign, reassign or (None) return to the queue; refusals: :func:`lifecycle.assign_to`'s."""

    async def work(uow: UnitOfWork) -> StaffThread:
        ticket = await lifecycle.assign_to(services, uow, ticket_id=ticket_id, staff_id=assignee_id)
        await _audit(
            services, uow, actor, "support.ticket.assigned", ticket_id, assignee=ticket.assignee_id
        )
        return await _thread(services, uow, ticket_id)

    return await run_unit(services.engine, work)


async def update(
    services: Services,
    actor: Actor,
    *,
    ticket_id: str,
    status: str | None,
    priority: str | None,
    category: str | None,
) -> StaffThread:
    """Change the category, then the priority, then the status (each that is named); audited.

    Refusals, in order: nothing named (``validation_error``), then the category's, the
    priority's and the status change's (:mod:`ewallet.support.service.lifecycle`). One
    unit: a refused status change keeps the category and priority unchanged too.
    """
    changes = {
        name: value
        for name, value in (("status", status), ("priority", priority), ("category", category))
        if value is not None
    }
    if not changes:
        raise ValidationFailedError("name a status, priority or category to change")

    async def work(uow: UnitOfWork) -> StaffThread:
        if category is not None:
            await lifecycle.change_category(services, uow, ticket_id=ticket_id, category=category)
        if priority is not None:
            await lifecycle.change_priority(services, uow, ticket_id=ticket_id, priority=priority)
        if status is not None:
            await lifecycle.change_status(services, uow, ticket_id=ticket_id, status=status)
        await _audit(services, uow, actor, "support.ticket.updated", ticket_id, **changes)
        return await _thread(services, uow, ticket_id)

    return await run_unit(services.engine, work)


async def dispatch(services: Services, actor: Actor) -> list[Dispatched]:
    """Hand waiting tickets to agents with room; each assignment is audited."""

    async def work(uow: UnitOfWork) -> list[Dispatched]:
        done = await assignment.dispatch_queue(services, uow)
        for given in done:
            await _audit(
                services,
                uow,
                actor,
                "support.ticket.dispatched",
                given.ticket_id,
                to=given.assignee_id,
            )
        return done

    return await run_unit(services.engine, work)


# Canned replies.


async def canned_replies(services: Services, *, category: str | None) -> list[SupportCannedReply]:
    """Canned replies by title (for a category: its own and the general ones)."""

    async def work(uow: UnitOfWork) -> list[SupportCannedReply]:
        return await repo.canned_replies(uow.session, category=category)

    return await run_unit(services.engine, work, read_only=True)


async def create_canned_reply(
    services: Services, actor: Actor, *, title: str, body: str, category: str | None
) -> SupportCannedReply:
    """Write a canned reply; audited."""

    async def work(uow: UnitOfWork) -> SupportCannedReply:
        now = services.clock.now()
        created = SupportCannedReply(
            id=new_id("cnr"),
            title=title,
            body=body,
            category=category,
            created_by=_staff_id(actor),
            created_at=now,
            updated_at=now,
        )
        await repo.add_canned_reply(uow.session, created)
        await _audit(services, uow, actor, "support.canned_reply.created", created.id)
        return created

    return await run_unit(services.engine, work)


async def update_canned_reply(
    services: Services,
    actor: Actor,
    *,
    reply_id: str,
    title: str,
    body: str,
    category: str | None,
) -> SupportCannedReply:
    """Rewrite a canned reply; refusal: ``not_found``; audited."""

    async def work(uow: UnitOfWork) -> SupportCannedReply:
        found = await _canned_reply(uow, reply_id)
        found.title = title
        found.body = body
        found.category = category
        found.updated_at = services.clock.now()
        await uow.session.flush()
        await _audit(services, uow, actor, "support.canned_reply.updated", found.id)
        return found

    return await run_unit(services.engine, work)


async def delete_canned_reply(services: Services, actor: Actor, *, reply_id: str) -> None:
    """Delete a canned reply; refusal: ``not_found``; audited."""

    async def work(uow: UnitOfWork) -> None:
        await repo.delete_canned_reply(uow.session, await _canned_reply(uow, reply_id))
        await _audit(services, uow, actor, "support.canned_reply.deleted", reply_id)

    await run_unit(services.engine, work)
