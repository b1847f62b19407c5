"""Chat service rules that need no socket."""

from __future__ import annotations

from sqlalchemy import select, update

from ewallet.chat.bus import chat_topic
from ewallet.chat.service import agent, customer
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.support import TicketChannel
from ewallet.models.support_chat import SupportChat
from ewallet.support.presence import service as presence
from ewallet.support.service.tickets import open_ticket
from tests.chat.test_chat_socket import _ticket_of, tickets
from tests.fixtures.chat import ChatWorld


async def test_a_chat_whose_ticket_staff_closed_still_saves_its_transcript(
    world: ChatWorld,
) -> None:
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="zh-CN", chat_id=None)
    chat_id = opened.chat.id

    async def ticket_closed_by_staff(uow: UnitOfWork) -> str:
        ticket_id = await open_ticket(
            world.services,
            uow,
            user_id=user_id,
            email=None,
            subject="在线客服",
            body="提现没到账",
            channel=TicketChannel.CHAT,
        )
        conn = await uow.connection()
        await conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(status="closed"))
        await conn.execute(
            update(SupportChat).where(SupportChat.id == chat_id).values(ticket_id=ticket_id)
        )
        return ticket_id

    await run_unit(world.engine, ticket_closed_by_staff)
    ended = await customer.customer_ends(world.services, user_id, chat_id=chat_id)
    assert ended.chat.status == "closed"
    ticket, lines = await _ticket_of(world, user_id)
    assert ticket.status == "closed"  # left as staff set it
    (note,) = [line for line in lines if line.author_type == "system"]
    assert note.internal is True  # a closed ticket takes the transcript as an internal note


async def test_when_the_last_agent_leaves_waiting_chats_become_tickets(
    world: ChatWorld,
) -> None:
    agent_id, _ = await world.agent()
    connection = await presence.agent_connected(world.services, agent_id)
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="en", chat_id=None)
    queued = await customer.ask_for_agent(
        world.services,
        user_id,
        chat_id=opened.chat.id,
    )
    assert queued.chat.status == "queued"
    topics = await agent.agent_disconnected(world.services, connection_id=connection)
    assert chat_topic(opened.chat.id) in topics  # the customer's socket hears it ended
    chat, _ = await customer.customer_chat(world.services, user_id, chat_id=opened.chat.id)
    assert chat.status == "closed"
    ticket, lines = await _ticket_of(world, user_id)
    assert ticket.channel == "chat"
    assert any(line.author_type == "system" for line in lines)  # the transcript


async def test_a_leaving_agent_strands_nobody_while_another_is_online(world: ChatWorld) -> None:
    first, _ = await world.agent()
    second, _ = await world.agent()
    leaving = await presence.agent_connected(world.services, first)
    await presence.agent_connected(world.services, second)
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="en", chat_id=None)
    await customer.ask_for_agent(
        world.services,
        user_id,
        chat_id=opened.chat.id,
    )
    topics = await agent.agent_disconnected(world.services, connection_id=leaving)
    assert topics == frozenset()
    chat, _ = await customer.customer_chat(world.services, user_id, chat_id=opened.chat.id)
    assert chat.status == "queued"


async def test_a_chat_only_the_bot_had_opens_no_ticket(world: ChatWorld) -> None:
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="en", chat_id=None)
    ended = await customer.customer_ends(world.services, user_id, chat_id=opened.chat.id)
    assert ended.chat.status == "closed"
    async with world.engine.connect() as conn:
        assert (await conn.execute(select(tickets).where(tickets.c.user_id == user_id))).all() == []
    _, lines = await customer.customer_chat(world.services, user_id, chat_id=opened.chat.id)
    assert "chat history" in lines[-1].body  # the customer is told where the lines are kept
