"""``/v1/support``: a customer's own tickets, their messages and rating, and their mail address.

Another customer's ticket is always 404 (never 403): its existence is not confirmed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ewallet.http.deps import ClockDep, EngineDep, SettingsDep
from ewallet.identity.deps import CurrentUser
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.support import customer_email, lifecycle, queries, quota, tickets
from ewallet.support.errors import SupportEmailCodeInvalidError
from ewallet.support.policy import SupportPolicy
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

router = APIRouter(prefix="/v1/support", tags=["support"])


def support_policy(settings: SettingsDep) -> SupportPolicy:
    return SupportPolicy.from_settings(settings)


PolicyDep = Annotated[SupportPolicy, Depends(support_policy)]


async def _own_ticket(engine: Any, user_id: str, ticket_id: str) -> TicketOut:
    async def work(uow: UnitOfWork) -> TicketOut:
        thread = await queries.ticket_thread(
            uow.session, ticket_id=ticket_id, user_id=user_id, include_internal=False
        )
        if thread is None:
            raise NotFoundError("no such ticket")
        return TicketOut.of(thread.ticket, thread.messages, thread.attachments)

    return await run_unit(engine, work, read_only=True)


@router.post("/tickets", status_code=201, summary="Open a support ticket")
async def create_ticket(
    body: TicketCreateIn, user: CurrentUser, engine: EngineDep, clock: ClockDep, policy: PolicyDep
) -> TicketOut:
    async def work(uow: UnitOfWork) -> str:
        await quota.reserve_customer_ticket(uow, clock=clock, policy=policy, user_id=user.user_id)
        return await tickets.open_ticket(
            uow,
            clock=clock,
            policy=policy,
            user_id=user.user_id,
            email=None,
            subject=body.subject,
            body=body.body,
            channel="api",
            category=body.category,
            author_id=user.user_id,
        )

    ticket_id = await run_unit(engine, work)
    return await _own_ticket(engine, user.user_id, ticket_id)


@router.get("/tickets", summary="My support tickets, newest first")
async def list_tickets(
    user: CurrentUser,
    engine: EngineDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> TicketList:
    async def work(uow: UnitOfWork) -> TicketList:
        page = await queries.customer_tickets(
            uow.session, user_id=user.user_id, limit=limit, cursor=cursor
        )
        return TicketList(
            items=[TicketOut.of(ticket) for ticket in page.items], next_cursor=page.next_cursor
        )

    return await run_unit(engine, work, read_only=True)


@router.get("/tickets/{ticket_id}", summary="One of my tickets with its messages")
async def get_ticket(ticket_id: str, user: CurrentUser, engine: EngineDep) -> TicketOut:
    return await _own_ticket(engine, user.user_id, ticket_id)


@router.post("/tickets/{ticket_id}/messages", status_code=201, summary="Write on my ticket")
async def post_message(
    *,
    ticket_id: str,
    body: MessageIn,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
    policy: PolicyDep,
) -> MessageOut:
    async def work(uow: UnitOfWork) -> str:
        return await tickets.add_message(
            uow,
            clock=clock,
            policy=policy,
            ticket_id=ticket_id,
            author_type="customer",
            author_id=user.user_id,
            body=body.body,
        )

    message_id = await run_unit(engine, work)
    ticket = await _own_ticket(engine, user.user_id, ticket_id)
    return next(message for message in ticket.messages or [] if message.id == message_id)


@router.post("/tickets/{ticket_id}/rating", summary="Rate a resolved ticket (once)")
async def rate_ticket(
    ticket_id: str, body: RatingIn, user: CurrentUser, engine: EngineDep, clock: ClockDep
) -> TicketOut:
    async def work(uow: UnitOfWork) -> None:
        await lifecycle.rate_ticket(
            uow,
            clock=clock,
            ticket_id=ticket_id,
            user_id=user.user_id,
            rating=body.rating,
            comment=body.comment,
        )

    await run_unit(engine, work)
    return await _own_ticket(engine, user.user_id, ticket_id)


@router.get("/email", summary="My support email address and whether it is proven")
async def get_email(user: CurrentUser, engine: EngineDep) -> SupportEmailOut:
    async def work(uow: UnitOfWork) -> SupportEmailOut:
        row = await customer_email.current(uow, user.user_id)
        if row is None:
            return SupportEmailOut(email=None, verified=False)
        return SupportEmailOut(email=row.email, verified=row.verified_at is not None)

    return await run_unit(engine, work, read_only=True)


@router.put("/email", status_code=202, summary="Name my email address (a code is mailed to it)")
async def put_email(
    body: EmailClaimIn, user: CurrentUser, engine: EngineDep, clock: ClockDep, policy: PolicyDep
) -> SupportEmailOut:
    async def work(uow: UnitOfWork) -> None:
        await customer_email.claim(
            uow, clock=clock, policy=policy, user_id=user.user_id, email=body.email
        )

    await run_unit(engine, work)
    return SupportEmailOut(email=body.email, verified=False)


@router.post("/email/verify", summary="Prove my email address with the mailed code")
async def verify_email(
    body: EmailVerifyIn, user: CurrentUser, engine: EngineDep, clock: ClockDep
) -> SupportEmailOut:
    async def work(uow: UnitOfWork) -> SupportEmailOut | None:
        row = await customer_email.verify(uow, clock=clock, user_id=user.user_id, code=body.code)
        return None if row is None else SupportEmailOut(email=row.email, verified=True)

    result = await run_unit(engine, work)
    if result is None:
        raise SupportEmailCodeInvalidError("the code is wrong or expired; ask for a new one")
    return result
