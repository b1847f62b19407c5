"""``/v1/staff/support``: the ticket queue for agents (support_agent, admin).

Each route parses, makes one call to :mod:`ewallet.support.staff.service` (which writes the
audit event with the action) and shapes the answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from ewallet.http.deps import ServicesDep
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import SUPPORT
from ewallet.staff.principal import StaffPrincipal
from ewallet.support.schemas import Category, Priority, Status
from ewallet.support.staff import service
from ewallet.support.staff.schemas import (
    AssignIn,
    CannedReplyIn,
    CannedReplyList,
    CannedReplyOut,
    DispatchOut,
    StaffNoteIn,
    StaffReplyIn,
    StaffTicketList,
    StaffTicketOut,
    TicketUpdateIn,
)
from ewallet.support.views import QueueFilter

router = APIRouter(prefix="/v1/staff/support", tags=["support (staff)"])

Agent = Annotated[StaffPrincipal, Depends(require_permission(SUPPORT))]


@router.get("/tickets", summary="The ticket queue, filtered")
async def list_tickets(
    *,
    staff: Agent,
    services: ServicesDep,
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
    filters = QueueFilter(
        status=status,
        priority=priority,
        category=category,
        channel=channel,
        assignee=assignee,
        breached=breached,
        user_id=user_id,
    )
    page = await service.queue(services, staff.actor(), filters=filters, limit=limit, cursor=cursor)
    return StaffTicketList.of(page)


@router.get("/tickets/{ticket_id}", summary="One ticket with every message and internal note")
async def get_ticket(ticket_id: str, staff: Agent, services: ServicesDep) -> StaffTicketOut:
    return StaffTicketOut.thread(
        await service.view_ticket(services, staff.actor(), ticket_id=ticket_id)
    )


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", summary="Download an attachment")
async def get_attachment(
    ticket_id: str, attachment_id: str, staff: Agent, services: ServicesDep
) -> Response:
    found = await service.attachment(
        services, staff.actor(), ticket_id=ticket_id, attachment_id=attachment_id
    )
    safe_name = "".join(c for c in found.filename if c.isalnum() or c in "._-") or "attachment"
    return Response(
        found.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "X-Original-Content-Type": found.content_type,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/tickets/{ticket_id}/replies", status_code=201, summary="Reply to the customer")
async def reply(
    ticket_id: str, body: StaffReplyIn, staff: Agent, services: ServicesDep
) -> StaffTicketOut:
    found = await service.reply(
        services,
        staff.actor(),
        ticket_id=ticket_id,
        body=body.body,
        canned_reply_id=body.canned_reply_id,
    )
    return StaffTicketOut.thread(found)


@router.post("/tickets/{ticket_id}/notes", status_code=201, summary="Add an internal note")
async def note(
    ticket_id: str, body: StaffNoteIn, staff: Agent, services: ServicesDep
) -> StaffTicketOut:
    found = await service.note(services, staff.actor(), ticket_id=ticket_id, body=body.body)
    return StaffTicketOut.thread(found)


@router.put("/tickets/{ticket_id}/assignee", summary="Assign, reassign or return to the queue")
async def assign(
    ticket_id: str, body: AssignIn, staff: Agent, services: ServicesDep
) -> StaffTicketOut:
    found = await service.assign(
        services, staff.actor(), ticket_id=ticket_id, assignee_id=body.assignee_id
    )
    return StaffTicketOut.thread(found)


@router.patch("/tickets/{ticket_id}", summary="Change status, priority or category")
async def update_ticket(
    ticket_id: str, body: TicketUpdateIn, staff: Agent, services: ServicesDep
) -> StaffTicketOut:
    found = await service.update(
        services,
        staff.actor(),
        ticket_id=ticket_id,
        status=body.status,
        priority=body.priority,
        category=body.category,
    )
    return StaffTicketOut.thread(found)


@router.post("/queue/dispatch", summary="Hand waiting tickets to agents with room")
async def dispatch(staff: Agent, services: ServicesDep) -> DispatchOut:
    return DispatchOut.of(await service.dispatch(services, staff.actor()))


@router.get("/canned-replies", summary="Canned replies (for a category: its own and general ones)")
async def list_canned(
    staff: Agent, services: ServicesDep, category: Category | None = None
) -> CannedReplyList:
    replies = await service.canned_replies(services, category=category)
    return CannedReplyList(items=[CannedReplyOut.of(reply) for reply in replies])


@router.post("/canned-replies", status_code=201, summary="Write a canned reply")
async def create_canned(body: CannedReplyIn, staff: Agent, services: ServicesDep) -> CannedReplyOut:
    created = await service.create_canned_reply(
        services, staff.actor(), title=body.title, body=body.body, category=body.category
    )
    return CannedReplyOut.of(created)


@router.put("/canned-replies/{reply_id}", summary="Edit a canned reply")
async def update_canned(
    reply_id: str, body: CannedReplyIn, staff: Agent, services: ServicesDep
) -> CannedReplyOut:
    updated = await service.update_canned_reply(
        services,
        staff.actor(),
        reply_id=reply_id,
        title=body.title,
        body=body.body,
        category=body.category,
    )
    return CannedReplyOut.of(updated)


@router.delete("/canned-replies/{reply_id}", status_code=204, summary="Delete a canned reply")
async def delete_canned(reply_id: str, staff: Agent, services: ServicesDep) -> Response:
    await service.delete_canned_reply(services, staff.actor(), reply_id=reply_id)
    return Response(status_code=204)
