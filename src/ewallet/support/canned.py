"""Canned replies: staff-written answers an agent can send with the ticket's details filled in."""

from __future__ import annotations

from sqlalchemy import select

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import NotFoundError
from ewallet.kit.ids import new_id
from ewallet.models.support import SupportCannedReply, SupportTicket


async def list_replies(uow: UnitOfWork, *, category: str | None = None) -> list[SupportCannedReply]:
    statement = select(SupportCannedReply).order_by(SupportCannedReply.title, SupportCannedReply.id)
    if category is not None:
        statement = statement.where(
            (SupportCannedReply.category == category) | SupportCannedReply.category.is_(None)
        )
    return list((await uow.session.execute(statement)).scalars())


async def get_reply(uow: UnitOfWork, reply_id: str) -> SupportCannedReply:
    reply = await uow.session.get(SupportCannedReply, reply_id)
    if reply is None:
        raise NotFoundError("no such canned reply")
    return reply


async def create_reply(
    uow: UnitOfWork, *, clock: Clock, staff_id: str, title: str, body: str, category: str | None
) -> SupportCannedReply:
    now = clock.now()
    reply = SupportCannedReply(
        id=new_id("cnr"),
        title=title,
        body=body,
        category=category,
        created_by=staff_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(reply)
    await uow.session.flush()
    return reply


async def update_reply(
    uow: UnitOfWork, *, clock: Clock, reply_id: str, title: str, body: str, category: str | None
) -> SupportCannedReply:
    reply = await get_reply(uow, reply_id)
    reply.title = title
    reply.body = body
    reply.category = category
    reply.updated_at = clock.now()
    await uow.session.flush()
    return reply


async def delete_reply(uow: UnitOfWork, *, reply_id: str) -> None:
    reply = await get_reply(uow, reply_id)
    await uow.session.delete(reply)
    await uow.session.flush()


def fill(reply: SupportCannedReply, ticket: SupportTicket) -> str:
    """The reply's text for this ticket: ``{reference}`` and ``{subject}`` filled in."""
    return reply.body.replace("{reference}", ticket.reference).replace("{subject}", ticket.subject)
