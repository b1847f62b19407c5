"""Chat service rules that need no socket."""

from __future__ import annotations

from sqlalchemy import update

from ewallet.chat import service
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.support_chat import SupportChat
from ewallet.support.tickets import open_ticket
from tests.chat.conftest import ChatWorld
from tests.chat.test_chat_socket import _ticket_of, tickets


async def test_a_chat_whose_ticket_staff_closed_still_saves_its_transcript(
    world: ChatWorld,
) -> None:
    user_id, _ = await world.customer()
    opened = await service.open_chat(
        world.engine, clock=world.clock, user_id=user_id, locale="zh-CN", chat_id=None
    )
    chat_id = opened.chat.id

    async def ticket_closed_by_staff(uow: UnitOfWork) -> str:
        ticket_id = await open_ticket(
            uow,
            clock=world.clock,
            user_id=user_id,
            email=None,
            subject="在线客服",
            body="提现没到账",
            channel="chat",
        )
        conn = await uow.connection()
        await conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(status="closed"))
        await conn.execute(
            update(SupportChat).where(SupportChat.id == chat_id).values(ticket_id=ticket_id)
        )
        return ticket_id

    await run_unit(world.engine, ticket_closed_by_staff)
    ended = await service.customer_ends(
        world.engine, clock=world.clock, user_id=user_id, chat_id=chat_id
    )
    assert ended.chat.status == "closed"
    ticket, lines = await _ticket_of(world, user_id)
    assert ticket.status == "closed"  # left as staff set it
    (note,) = [line for line in lines if line.author_type == "system"]
    assert note.internal is True  # a closed ticket takes the transcript as an internal note
