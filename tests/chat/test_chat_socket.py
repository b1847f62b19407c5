"""The customer's chat socket: authentication, the bot, hand-over, the queue, an agent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, select

from ewallet.models.support import SupportTicket, SupportTicketMessage
from ewallet.models.support_chat import SupportAgentPresence
from tests.fixtures.chat import ChatWorld, client, connect, is_message, live

tickets = cast(Table, SupportTicket.__table__)
ticket_messages = cast(Table, SupportTicketMessage.__table__)
presence = cast(Table, SupportAgentPresence.__table__)
CUSTOMER = "/v1/support/chat"
AGENT = "/v1/staff/support/chat"


async def _ticket_of(world: ChatWorld, user_id: str) -> tuple[Any, list[Any]]:
    async with world.engine.connect() as conn:
        ticket = (await conn.execute(select(tickets).where(tickets.c.user_id == user_id))).one()
        lines = (
            await conn.execute(
                select(ticket_messages).where(ticket_messages.c.ticket_id == ticket.id)
            )
        ).all()
    return ticket, list(lines)


async def test_bad_or_missing_token_is_closed_with_4401(world: ChatWorld) -> None:
    _, customer_token = await world.customer()
    async with live(world.app()) as address:
        async with connect(address, CUSTOMER, "not-a-token") as sock:
            assert await sock.close_code() == 4401
        async with connect(address, CUSTOMER, None) as sock:
            await sock.send({"type": "message", "text": "hello"})
            assert await sock.close_code() == 4401
        # A customer's token is no staff token.
        async with connect(address, AGENT, customer_token) as sock:
            assert await sock.close_code() == 4401
        _, teller = await world.agent("teller")
        async with connect(address, AGENT, teller) as sock:
            assert await sock.close_code() == 4403


async def test_bot_answers_with_the_best_three_articles(world: ChatWorld) -> None:
    _, token = await world.customer()
    async with live(world.app()) as address, connect(address, CUSTOMER, token) as sock:
        ready = await sock.next()
        assert ready["type"] == "ready"
        assert ready["chat"]["status"] == "bot"
        await sock.expect(is_message("bot"))  # the welcome
        await sock.send({"type": "message", "text": "提现手续费怎么算"})
        mine = await sock.expect(is_message("customer"))
        assert mine["text"] == "提现手续费怎么算"
        answer = await sock.expect(is_message("bot"))
        assert len(answer["articles"]) == 3
        assert all(a["url"] == f"/v1/help/articles/{a['id']}" for a in answer["articles"])
        assert "withdraw" in answer["articles"][0]["title"].lower() or "提现" in answer["text"]
        async with client(address) as http:
            article = await http.get(answer["articles"][0]["url"])
        assert article.status_code == 200


async def test_asking_for_a_human_with_no_agent_online_opens_a_ticket(world: ChatWorld) -> None:
    user_id, token = await world.customer()
    async with live(world.app()) as address, connect(address, CUSTOMER, token) as sock:
        await sock.expect(is_message("bot"))
        await sock.send({"type": "message", "text": "我要转人工"})
        told = await sock.expect(lambda f: f["type"] == "message" and "TKT-" in f["text"])
        assert told["sender"] == "system"
        ended = await sock.expect(lambda f: f["type"] == "ended")
        assert ended["chat"]["status"] == "closed"
        assert ended["chat"]["closed_by"] == "system"
        assert await sock.close_code() == 1000
    ticket, lines = await _ticket_of(world, user_id)
    assert ticket.channel == "chat"
    assert ticket.reference in told["text"]
    assert ended["chat"]["ticket_id"] == ticket.id
    transcript = [line.body for line in lines if line.author_type == "system"]
    assert len(transcript) == 1
    assert "我要转人工" in transcript[0]


async def test_two_unhelpful_answers_in_a_row_hand_over(world: ChatWorld) -> None:
    user_id, token = await world.customer()
    async with live(world.app()) as address, connect(address, CUSTOMER, token) as sock:
        await sock.expect(is_message("bot"))
        await sock.send({"type": "message", "text": "what is the meaning of life"})
        unsure = await sock.expect(is_message("bot"))
        assert "not sure" in unsure["text"] or "不太确定" in unsure["text"]
        await sock.send({"type": "message", "text": "pizza recipe please"})
        await sock.expect(lambda f: f["type"] == "ended")
    ticket, _ = await _ticket_of(world, user_id)
    assert ticket.channel == "chat"


async def test_queue_positions_agent_take_reply_and_end(world: ChatWorld) -> None:
    first_id, first_token = await world.customer()
    _, second_token = await world.customer()
    _, agent_token = await world.agent()
    async with (
        live(world.app()) as address,
        connect(address, AGENT, agent_token) as agent,
        connect(address, CUSTOMER, first_token) as first,
        connect(address, CUSTOMER, second_token) as second,
    ):
        assert (await agent.next())["type"] == "ready"
        await agent.expect(lambda f: f["type"] == "waiting" and f["chats"] == [])
        await first.expect(is_message("bot"))
        await second.expect(is_message("bot"))
        await first.send({"type": "handover"})
        queued = await first.expect(lambda f: f["type"] == "state")
        assert queued["chat"]["status"] == "queued"
        assert queued["chat"]["queue_position"] == 1
        # The test clock stands still: move it, so the queue has an order other than the
        # (random within a millisecond) chat ids.
        world.clock.advance(timedelta(seconds=1))
        await second.send({"type": "message", "text": "human please"})
        second_queued = await second.expect(lambda f: f["type"] == "state")
        assert second_queued["chat"]["queue_position"] == 2
        waiting = await agent.expect(lambda f: f["type"] == "waiting" and len(f["chats"]) == 2)
        first_chat = waiting["chats"][0]["id"]
        assert waiting["chats"][0]["user_id"] == first_id

        async with client(address, agent_token) as http:
            listed = await http.get("/v1/staff/support/chats")
            assert [c["id"] for c in listed.json()["items"]] == [c["id"] for c in waiting["chats"]]
            taken = await http.post(f"/v1/staff/support/chats/{first_chat}/take")
            assert taken.status_code == 200, taken.text
            again = await http.post(f"/v1/staff/support/chats/{first_chat}/take")
            assert again.status_code == 409
            assert again.json()["code"] == "chat_not_waiting"

        moved = await second.expect(lambda f: f["type"] == "state")
        assert moved["chat"]["queue_position"] == 1  # pushed as the line moved
        active = await first.expect(lambda f: f["type"] == "state")
        assert active["chat"]["status"] == "active"
        assigned = await agent.expect(lambda f: f["type"] == "assigned")
        assert assigned["chat"]["id"] == first_chat
        assert any(m["sender"] == "customer" for m in assigned["messages"]) is False

        await agent.send({"type": "message", "chat_id": first_chat, "text": "您好，请讲"})
        heard = await first.expect(is_message("agent"))
        assert heard["text"] == "您好，请讲"
        assert "sender_id" not in heard
        await first.send({"type": "message", "text": "我的提现还没到账"})
        reply = await agent.expect(is_message("customer"))
        assert reply["chat_id"] == first_chat
        assert reply["text"] == "我的提现还没到账"

        await agent.send({"type": "end", "chat_id": first_chat})
        ended = await first.expect(lambda f: f["type"] == "ended")
        assert ended["chat"]["closed_by"] == "agent"
        await agent.expect(lambda f: f["type"] == "ended" and f["chat"]["id"] == first_chat)
    _, lines = await _ticket_of(world, first_id)
    transcript = next(line.body for line in lines if line.author_type == "system")
    assert "您好，请讲" in transcript
    assert "我的提现还没到账" in transcript
    async with world.engine.connect() as conn:
        assert (await conn.execute(select(presence))).all() == []  # the agent left


async def test_a_customer_cannot_read_or_join_another_customers_chat(world: ChatWorld) -> None:
    _, owner_token = await world.customer()
    _, other_token = await world.customer()
    async with live(world.app()) as address:
        async with connect(address, CUSTOMER, owner_token) as sock:
            ready = await sock.next()
            chat_id = ready["chat"]["id"]
            await sock.expect(is_message("bot"))  # the welcome
            await sock.send({"type": "message", "text": "转账限额是多少"})
            await sock.expect(is_message("customer"))
        async with client(address, other_token) as http:
            peek = await http.get(f"/v1/support/chats/{chat_id}")
            assert peek.status_code == 404
            assert "转账" not in peek.text
            assert (await http.get("/v1/support/chats")).json()["items"] == []
        async with connect(address, CUSTOMER, other_token, chat_id=chat_id) as sock:
            assert await sock.close_code() == 4404
        async with client(address) as anonymous:
            assert (await anonymous.get(f"/v1/support/chats/{chat_id}")).status_code == 401
        async with client(address, owner_token) as http:
            mine = await http.get(f"/v1/support/chats/{chat_id}")
            assert mine.status_code == 200
            assert any(m["text"] == "转账限额是多少" for m in mine.json()["messages"])


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_customer_and_agent_on_two_api_processes(world: ChatWorld) -> None:
    """Two app instances, one PostgreSQL database: the bus (LISTEN/NOTIFY) joins them."""
    _, customer_token = await world.customer()
    _, agent_token = await world.agent()
    async with live(world.app()) as front, live(world.app()) as back:  # noqa: SIM117
        async with connect(back, AGENT, agent_token) as agent:
            await agent.expect(lambda f: f["type"] == "waiting")
            async with connect(front, CUSTOMER, customer_token) as customer:
                await customer.expect(is_message("bot"))
                await customer.send({"type": "message", "text": "人工"})
                await customer.expect(lambda f: f["type"] == "state")
                waiting = await agent.expect(
                    lambda f: f["type"] == "waiting" and len(f["chats"]) == 1
                )
                chat_id = waiting["chats"][0]["id"]
                await agent.send({"type": "take", "chat_id": chat_id})
                await agent.expect(lambda f: f["type"] == "assigned")
                await customer.expect(
                    lambda f: f["type"] == "state" and f["chat"]["status"] == "active"
                )
                await agent.send({"type": "message", "chat_id": chat_id, "text": "from back"})
                assert (await customer.expect(is_message("agent")))["text"] == "from back"
                await customer.send({"type": "message", "text": "from front"})
                assert (await agent.expect(is_message("customer")))["text"] == "from front"
                await customer.send({"type": "end"})
                await agent.expect(lambda f: f["type"] == "ended")


async def test_frames_with_duplicate_keys_or_lone_surrogates_are_refused(
    world: ChatWorld,
) -> None:
    # The socket parses frames as strictly as HTTP bodies: a repeated key or a lone
    # surrogate answers a validation_error frame and posts nothing.
    _, token = await world.customer()
    async with live(world.app()) as address, connect(address, CUSTOMER, token) as sock:
        assert (await sock.next())["type"] == "ready"
        await sock.expect(is_message("bot"))  # the welcome
        for raw in (
            '{"type": "message", "text": "a", "text": "b"}',
            '{"type": "message", "text": "\\ud800"}',
        ):
            await sock.connection.send(raw)
            refusal = await sock.next()
            assert refusal["type"] == "error"
            assert refusal["code"] == "validation_error"
        await sock.send({"type": "message", "text": "你好"})
        mine = await sock.expect(is_message("customer"))
        assert mine["text"] == "你好"
    assert not [f for f in sock.frames if f.get("text") in {"a", "b"}]
