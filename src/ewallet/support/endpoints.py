"""``/v1/support``: a customer's own tickets, their messages and rating, and their mail address.

Each route parses, makes one call to :mod:`ewallet.support.service.customer` and shapes the
answer. Another customer's ticket is always 404 (never 403): its existence is not confirmed.
The staff queue's routes are in :mod:`ewallet.support.staff.endpoints`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.support.schemas import (
    EmailClaimIn,
    EmailVerifyIn,
    MessageIn,
    MessageOut,
    RatingIn,
    SupportEmailOut,
    TicketCreateIn,
    TicketList,
    TicketOut,
)
from ewallet.support.service import customer

router = APIRouter(prefix="/v1/support", tags=["support"])


@router.post("/tickets", status_code=201, summary="Open a support ticket")
async def create_ticket(
    body: TicketCreateIn, user: CurrentUser, services: ServicesDep
) -> TicketOut:
    thread = await customer.open_my_ticket(
        services, user.user_id, subject=body.subject, body=body.body, category=body.category
    )
    return TicketOut.thread(thread)


@router.get("/tickets", summary="My support tickets, newest first")
async def list_tickets(
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> TicketList:
    page = await customer.my_tickets(services, user.user_id, limit=limit, cursor=cursor)
    return TicketList.of(page)


@router.get("/tickets/{ticket_id}", summary="One of my tickets with its messages")
async def get_ticket(ticket_id: str, user: CurrentUser, services: ServicesDep) -> TicketOut:
    return TicketOut.thread(await customer.my_ticket(services, user.user_id, ticket_id=ticket_id))


@router.post("/tickets/{ticket_id}/messages", status_code=201, summary="Write on my ticket")
async def post_message(
    ticket_id: str, body: MessageIn, user: CurrentUser, services: ServicesDep
) -> MessageOut:
    message_id, thread = await customer.write_on_my_ticket(
        services, user.user_id, ticket_id=ticket_id, body=body.body
    )
    return MessageOut.of(next(message for message in thread.messages if message.id == message_id))


@router.post("/tickets/{ticket_id}/rating", summary="Rate a resolved ticket (once)")
async def rate_ticket(
    ticket_id: str, body: RatingIn, user: CurrentUser, services: ServicesDep
) -> TicketOut:
    thread = await customer.rate_my_ticket(
        services, user.user_id, ticket_id=ticket_id, rating=body.rating, comment=body.comment
    )
    return TicketOut.thread(thread)


@router.get("/email", summary="My support email address and whether it is proven")
async def get_email(user: CurrentUser, services: ServicesDep) -> SupportEmailOut:
    return SupportEmailOut.of(await customer.my_email(services, user.user_id))


@router.put("/email", status_code=202, summary="Name my email address (a code is mailed to it)")
async def put_email(
    body: EmailClaimIn, user: CurrentUser, services: ServicesDep
) -> SupportEmailOut:
    return SupportEmailOut.of(
        await customer.claim_my_email(services, user.user_id, email=body.email)
    )


@router.post("/email/verify", summary="Prove my email address with the mailed code")
async def verify_email(
    body: EmailVerifyIn, user: CurrentUser, services: ServicesDep
) -> SupportEmailOut:
    return SupportEmailOut.of(
        await customer.verify_my_email(services, user.user_id, code=body.code)
    )
