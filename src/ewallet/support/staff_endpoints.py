"""``/v1/staff/support``: the ticket queue for agents (support_agent, admin).

Every view of a ticket and every action is written to the audit log in the same unit of
work as the action itself, with the staff member as the actor.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from ewallet.audit.service import record_event
from ewallet.http.deps import ClockDep, EngineDep
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.staff.deps import require_roles
from ewallet.staff.principal import StaffPrincipal
from ewallet.support import assignment, canned, lifecycle, queries, tickets
from ewallet.support.endpoints import PolicyDep
from ewallet.support.schemas import (
    AssignIn,
    CannedReplyIn,
    CannedReplyList,
    CannedReplyOut,
    Category,
    DispatchOut,
    Priority,
    StaffNoteIn,
    StaffTicketList,
    StaffTicketOut,
    Status,
    TicketUpdateIn,
)
from ewallet.support.schemas import StaffReplyIn as ReplyIn

router = APIRouter(prefix="/v1/staff/support", tags=["support (staff)"])

Agent = Annotated[StaffPrincipal, Depends(require_roles("support_agent"))]
SUBJECT = "support_ticket"


async def _audit(
    uow: UnitOfWork,
    clock: Clock,
    staff: StaffPrincipal,
    action: str,
    subject_id: str,
    **details: Any,
) -> None:
    await record_event(
        await uow.connection(),
        clock=clock,
        actor=staff.actor(),
        action=action,
        subject_type=SUBJECT,
        subject_id=subject_id,
        details=details,
    )


async def _thread_out(uow: UnitOfWork, clock: Clock, ticket_id: str) -> StaffTicketOut:
    thread = await queries.ticket_thread(
        uow.session, ticket_id=ticket_id, user_id=None, include_internal=True
    )
    if thread is None:
        raise NotFoundError("no such ticket")
    return StaffTicketOut.of(
        thread.ticket, now=clock.now(), messages=thread.messages, attachments=thread.attachments
    )


@router.get("/tickets", summary="The ticket queue, filtered")
async def list_tickets(
    *,
    staff: Agent,
    engine: EngineDep,
    clock: ClockDep,
    status: Status | None = None,
    priority: Priority | None = None,
    category: Category | None = None,
    channel: Literal["web", "api", "email", "chat", "phone"] | None = None,
    assignee: Annotated[
        str | None, Query(description="a staff id, 'me', or 'none' for the unassigned queue")
    ] = None,
    breached: bool | None = None,
    user_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> StaffTicketList:
    filters = queries.QueueFilter(
        status=status,
        priority=priority,
        category=category,
        channel=channel,
        assignee=staff.staff_id if assignee == "me" else assignee,
        breached=breached,
        user_id=user_id,
    )

    async def work(uow: UnitOfWork) -> StaffTicketList:
        now = clock.now()
        page = await queries.staff_tickets(
            uow.session, filters=filters, now=now, limit=limit, cursor=cursor
        )
        await _audit(uow, clock, staff, "support.tickets.listed", "queue", count=len(page.items))
        return StaffTicketList(
            items=[StaffTicketOut.of(ticket, now=now) for ticket in page.items],
            next_cursor=page.next_cursor,
        )

    return await run_unit(engine, work)


@router.get("/tickets/{ticket_id}", summary="One ticket with every message and internal note")
async def get_ticket(
    ticket_id: str, staff: Agent, engine: EngineDep, clock: ClockDep
) -> StaffTicketOut:
    async def work(uow: UnitOfWork) -> StaffTicketOut:
        out = await _thread_out(uow, clock, ticket_id)
        await _audit(uow, clock, staff, "support.ticket.viewed", ticket_id)
        return out

    return await run_unit(engine, work)


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", summary="Download an attachment")
async def get_attachment(
    ticket_id: str, attachment_id: str, staff: Agent, engine: EngineDep, clock: ClockDep
) -> Response:
    async def work(uow: UnitOfWork) -> tuple[bytes, str, str]:
        found = await queries.attachment(
            uow.session, ticket_id=ticket_id, attachment_id=attachment_id
        )
        if found is None or found.content is None:
            raise NotFoundError("no such stored attachment")
        await _audit(
            uow, clock, staff, "support.attachment.viewed", ticket_id, attachment=attachment_id
        )
        return found.content, found.content_type, found.filename

    content, content_type, filename = await run_unit(engine, work)
    safe_name = "".join(c for c in filename if c.isalnum() or c in "._-") or "attachment"
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "X-Original-Content-Type": content_type,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/tickets/{ticket_id}/replies", status_code=201, summary="Reply to the customer")
async def reply(
    *,
    ticket_id: str,
    body: ReplyIn,
    staff: Agent,
    engine: EngineDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> StaffTicketOut:
    if body.body is None and body.canned_reply_id is None:
        raise ValidationFailedError("write a body or name a canned reply")

    async def work(uow: UnitOfWork) -> StaffTicketOut:
        text = body.body or ""
        if body.canned_reply_id is not None:
            ticket = await tickets.locked_ticket(uow, ticket_id)
            text = canned.fill(await canned.get_reply(uow, body.canned_reply_id), ticket)
        message_id = await tickets.add_message(
            uow,
            clock=clock,
            policy=policy,
            ticket_id=ticket_id,
            author_type="agent",
            author_id=staff.staff_id,
            body=text,
        )
        await _audit(uow, clock, staff, "support.ticket.replied", ticket_id, message=message_id)
        return await _thread_out(uow, clock, ticket_id)

    return await run_unit(engine, work)


@router.post("/tickets/{ticket_id}/notes", status_code=201, summary="Add an internal note")
async def note(
    *,
    ticket_id: str,
    body: StaffNoteIn,
    staff: Agent,
    engine: EngineDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> StaffTicketOut:
    async def work(uow: UnitOfWork) -> StaffTicketOut:
        message_id = await tickets.add_message(
            uow,
            clock=clock,
            policy=policy,
            ticket_id=ticket_id,
            author_type="agent",
            author_id=staff.staff_id,
            body=body.body,
            internal=True,
        )
        await _audit(uow, clock, staff, "support.ticket.noted", ticket_id, message=message_id)
        return await _thread_out(uow, clock, ticket_id)

    return await run_unit(engine, work)


@router.put("/tickets/{ticket_id}/assignee", summary="Assign, reassign or return to the queue")
async def assign(
    *,
    ticket_id: str,
    body: AssignIn,
    staff: Agent,
    engine: EngineDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> StaffTicketOut:
    async def work(uow: UnitOfWork) -> StaffTicketOut:
        ticket = await lifecycle.assign_to(
            uow, clock=clock, policy=policy, ticket_id=ticket_id, staff_id=body.assignee_id
        )
        await _audit(
            uow, clock, staff, "support.ticket.assigned", ticket_id, assignee=ticket.assignee_id
        )
        return await _thread_out(uow, clock, ticket_id)

    return await run_unit(engine, work)


@router.patch("/tickets/{ticket_id}", summary="Change status, priority or category")
async def update_ticket(
    *,
    ticket_id: str,
    body: TicketUpdateIn,
    staff: Agent,
    engine: EngineDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> StaffTicketOut:
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise ValidationFailedError("name a status, priority or category to change")

    async def work(uow: UnitOfWork) -> StaffTicketOut:
        if body.category is not None:
            await lifecycle.change_category(
                uow, clock=clock, ticket_id=ticket_id, category=body.category
            )
        if body.priority is not None:
            await lifecycle.change_priority(
                uow, clock=clock, policy=policy, ticket_id=ticket_id, priority=body.priority
            )
        if body.status is not None:
            await lifecycle.change_status(
                uow, clock=clock, policy=policy, ticket_id=ticket_id, status=body.status
            )
        await _audit(uow, clock, staff, "support.ticket.updated", ticket_id, **changes)
        return await _thread_out(uow, clock, ticket_id)

    return await run_unit(engine, work)


@router.post("/queue/dispatch", summary="Hand waiting tickets to agents with room")
async def dispatch(
    staff: Agent, engine: EngineDep, clock: ClockDep, policy: PolicyDep
) -> DispatchOut:
    async def work(uow: UnitOfWork) -> DispatchOut:
        pairs = await assignment.dispatch_queue(uow, clock=clock, policy=policy)
        for ticket_id, agent_id in pairs:
            await _audit(uow, clock, staff, "support.ticket.dispatched", ticket_id, to=agent_id)
        return DispatchOut(assigned=[{"ticket_id": t, "assignee_id": a} for t, a in pairs])

    return await run_unit(engine, work)


def _canned_out(reply: Any) -> CannedReplyOut:
    return CannedReplyOut(
        id=reply.id,
        title=reply.title,
        body=reply.body,
        category=reply.category,
        created_by=reply.created_by,
        created_at=reply.created_at,
        updated_at=reply.updated_at,
    )


@router.get("/canned-replies", summary="Canned replies (for a category: its own and general ones)")
async def list_canned(
    staff: Agent, engine: EngineDep, category: Category | None = None
) -> CannedReplyList:
    async def work(uow: UnitOfWork) -> CannedReplyList:
        replies = await canned.list_replies(uow, category=category)
        return CannedReplyList(items=[_canned_out(reply) for reply in replies])

    return await run_unit(engine, work, read_only=True)


@router.post("/canned-replies", status_code=201, summary="Write a canned reply")
async def create_canned(
    body: CannedReplyIn, staff: Agent, engine: EngineDep, clock: ClockDep
) -> CannedReplyOut:
    async def work(uow: UnitOfWork) -> CannedReplyOut:
        reply = await canned.create_reply(
            uow,
            clock=clock,
            staff_id=staff.staff_id,
            title=body.title,
            body=body.body,
            category=body.category,
        )
        await _audit(uow, clock, staff, "support.canned_reply.created", reply.id)
        return _canned_out(reply)

    return await run_unit(engine, work)


@router.put("/canned-replies/{reply_id}", summary="Edit a canned reply")
async def update_canned(
    reply_id: str, body: CannedReplyIn, staff: Agent, engine: EngineDep, clock: ClockDep
) -> CannedReplyOut:
    async def work(uow: UnitOfWork) -> CannedReplyOut:
        reply = await canned.update_reply(
            uow,
            clock=clock,
            reply_id=reply_id,
            title=body.title,
            body=body.body,
            category=body.category,
        )
        await _audit(uow, clock, staff, "support.canned_reply.updated", reply.id)
        return _canned_out(reply)

    return await run_unit(engine, work)


@router.delete("/canned-replies/{reply_id}", status_code=204, summary="Delete a canned reply")
async def delete_canned(
    reply_id: str, staff: Agent, engine: EngineDep, clock: ClockDep
) -> Response:
    async def work(uow: UnitOfWork) -> None:
        await canned.delete_reply(uow, reply_id=reply_id)
        await _audit(uow, clock, staff, "support.canned_reply.deleted", reply_id)

    await run_unit(engine, work)
    return Response(status_code=204)
