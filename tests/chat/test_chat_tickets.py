"""The ticket a chat leaves: resolved when an agent helped, open (new) when none did."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.chat.service import agent, customer
from ewallet.help.search import HelpSearch
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.support import AuthorType
from ewallet.support.presence import service as presence
from ewallet.support.service.tickets import add_message
from tests.chat.test_chat_socket import _ticket_of, tickets
from tests.fixtures.chat import ChatWorld
from tests.fixtures.staff import events_table


async def _agent_on_a_chat(world: ChatWorld) -> tuple[str, str, str]:
    """An online agent who took a customer's chat and answered; (agent, customer, chat) ids."""
    agent_id, _ = await world.agent()
    await presence.agent_connected(world.services, agent_id)
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="en", chat_id=None)
    chat_id = opened.chat.id
    queued = await customer.ask_for_agent(world.services, user_id, chat_id=chat_id)
    assert queued.chat.status == "queued"
    actor = Actor("staff", agent_id)
    await agent.take(world.services, actor, chat_id=chat_id)
    await customer.customer_says(
        world.services,
        user_id,
        search=HelpSearch(),
        chat_id=chat_id,
        text="my withdrawal has not arrived",
    )
    await agent.agent_says(world.services, actor, chat_id=chat_id, text="It is on its way")
    return agent_id, user_id, chat_id


async def _ticket_events(world: ChatWorld, ticket_id: str) -> list[Any]:
    async with world.engine.connect() as conn:
        rows = await conn.execute(
            select(events_table).where(
                events_table.c.subject_type == "support_ticket",
                events_table.c.subject_id == ticket_id,
            )
        )
        return list(rows)


async def test_an_agent_ending_a_chat_resolves_its_ticket_with_the_transcript(
    world: ChatWorld,
) -> None:
    agent_id, user_id, chat_id = await _agent_on_a_chat(world)
    ended = await agent.agent_ends(world.services, Actor("staff", agent_id), chat_id=chat_id)
    assert ended.chat.status == "closed"
    assert ended.chat.closed_by == "agent"
    ticket, lines = await _ticket_of(world, user_id)
    assert ended.chat.ticket_id == ticket.id
    assert ticket.channel == "chat"
    assert ticket.status == "resolved"
    assert ticket.resolved_at is not None
    # The agent's answers in the chat were the ticket's first response, and it is theirs.
    assert ticket.first_response_at is not None
    assert ticket.first_response_at <= ticket.resolved_at
    assert ticket.assignee_id == agent_id
    (note,) = [line for line in lines if line.author_type == "system"]
    assert note.internal is False
    assert "my withdrawal has not arrived" in note.body
    assert "It is on its way" in note.body
    (event,) = await _ticket_events(world, ticket.id)
    assert event.action == "support.ticket.updated"
    assert (event.actor_type, event.actor_id) == ("staff", agent_id)
    assert event.details == {"status": "resolved", "chat_id": chat_id}


async def test_a_customer_ending_a_chat_an_agent_answered_resolves_it_too(
    world: ChatWorld,
) -> None:
    """The agent helped; the customer only said goodbye first."""
    _, user_id, chat_id = await _agent_on_a_chat(world)
    ended = await customer.customer_ends(world.services, user_id, chat_id=chat_id)
    assert ended.chat.closed_by == "customer"
    ticket, lines = await _ticket_of(world, user_id)
    assert ticket.status == "resolved"
    assert any("It is on its way" in line.body for line in lines if line.author_type == "system")
    (event,) = await _ticket_events(world, ticket.id)
    assert (event.actor_type, event.actor_id) == ("user", user_id)


async def test_a_customer_reply_reopens_the_resolved_chat_ticket(world: ChatWorld) -> None:
    agent_id, user_id, chat_id = await _agent_on_a_chat(world)
    await agent.agent_ends(world.services, Actor("staff", agent_id), chat_id=chat_id)
    ticket, _ = await _ticket_of(world, user_id)

    async def reply(uow: UnitOfWork) -> None:
        await add_message(
            world.services,
            uow,
            ticket_id=ticket.id,
            author_type=AuthorType.CUSTOMER,
            author_id=user_id,
            body="Still not there",
        )

    await run_unit(world.engine, reply)
    reopened, _ = await _ticket_of(world, user_id)
    assert reopened.status == "open"
    assert reopened.resolved_at is None


async def test_a_chat_no_agent_saw_leaves_its_ticket_new(world: ChatWorld) -> None:
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="en", chat_id=None)
    ended = await customer.ask_for_agent(
        world.services,
        user_id,
        chat_id=opened.chat.id,
    )
    assert (ended.chat.status, ended.chat.closed_by) == ("closed", "system")
    ticket, lines = await _ticket_of(world, user_id)
    assert ticket.status == "new"
    assert ticket.resolved_at is None
    assert any(line.author_type == "system" for line in lines)  # the transcript
    assert await _ticket_events(world, ticket.id) == []


async def test_a_chat_stranded_by_the_last_agent_leaving_keeps_its_ticket_new(
    world: ChatWorld,
) -> None:
    agent_id, _ = await world.agent()
    connection = await presence.agent_connected(world.services, agent_id)
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="zh-CN", chat_id=None)
    await customer.ask_for_agent(
        world.services,
        user_id,
        chat_id=opened.chat.id,
    )
    await agent.agent_disconnected(world.services, connection_id=connection)
    ticket, _ = await _ticket_of(world, user_id)
    assert ticket.status == "new"


async def test_a_customer_leaving_the_queue_leaves_the_ticket_new(world: ChatWorld) -> None:
    """Queued, not yet taken: nobody helped, so an agent should still follow up."""
    agent_id, _ = await world.agent()
    await presence.agent_connected(world.services, agent_id)
    user_id, _ = await world.customer()
    opened = await customer.open_chat(world.services, user_id, locale="en", chat_id=None)
    await customer.ask_for_agent(
        world.services,
        user_id,
        chat_id=opened.chat.id,
    )
    await customer.customer_ends(world.services, user_id, chat_id=opened.chat.id)
    ticket, _ = await _ticket_of(world, user_id)
    assert ticket.status == "new"
    async with world.engine.connect() as conn:
        assert len((await conn.execute(select(tickets))).all()) == 1
