"""The agent's side of the chat: the queue, taking a chat, answering, ending, reading.

Taking, ending and reading another's chat are audit-logged; an agent acts only on chats
they took (another agent's chat is 404 to them).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.bus import QUEUE_TOPIC
from ewallet.chat.closing import close_chat, resolve_helped_ticket
from ewallet.chat.common import chat_locale, checked_text, say, topics_of, with_lines
from ewallet.chat.errors import ChatClosedError, ChatNotWaitingError
from ewallet.chat.views import ChatView, MessageView, Outcome, message_view, view
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.models.support_chat import SupportChat


async def waiting(engine: AsyncEngine, *, limit: int = 100) -> list[ChatView]:
    """The queue, first in line first, each with its position and last customer line."""

    async def work(uow: UnitOfWork) -> list[ChatView]:
        session = uow.session
        chats = await repo.waiting_chats(session, limit=limit)
        return [
            view(chat, position=n, preview=await repo.last_customer_message(session, chat.id))
            for n, chat in enumerate(chats, start=1)
        ]

    return await run_unit(engine, work, read_only=True)


async def staff_chat(
    engine: AsyncEngine, *, clock: Clock, actor: Actor, chat_id: str
) -> tuple[ChatView, list[MessageView]]:
    """Any chat with its lines, for staff; the read is audit-logged."""

    async def work(uow: UnitOfWork) -> tuple[ChatView, list[MessageView]]:
        chat = await uow.session.get(SupportChat, chat_id)
        if chat is None:
            raise NotFoundError("no such chat")
        found = await with_lines(uow, chat, 0)
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.chat_viewed",
            subject_type="user",
            subject_id=chat.user_id,
            details={"chat_id": chat.id},
        )
        return found

    return await run_unit(engine, work)


async def take(engine: AsyncEngine, *, clock: Clock, actor: Actor, chat_id: str) -> Outcome:
    """An agent takes a waiting chat; two agents racing for one: the second gets 409."""
    staff_id = cast(str, actor.id)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await repo.locked_chat(uow.session, chat_id)
        if chat is None:
            raise NotFoundError("no such chat")
        if chat.status != "queued":
            raise ChatNotWaitingError("this chat is not waiting for an agent")
        now = clock.now()
        chat.status = "active"
        chat.agent_id = staff_id
        chat.assigned_at = now
        await say(
            uow, chat, now=now, sender="system", body=bot.says("agent_joined", chat_locale(chat))
        )
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.chat_taken",
            subject_type="user",
            subject_id=chat.user_id,
            details={"chat_id": chat.id},
        )
        return Outcome(view(chat), topics_of(chat, QUEUE_TOPIC))

    return await run_unit(engine, work)


async def _agent_chat(uow: UnitOfWork, *, staff_id: str, chat_id: str) -> SupportChat:
    chat = await repo.locked_chat(uow.session, chat_id)
    if chat is None or chat.agent_id != staff_id:
        raise NotFoundError("no such chat among yours")
    if chat.status == "closed":
        raise ChatClosedError("this chat has ended")
    return chat


async def agent_says(
    engine: AsyncEngine, *, clock: Clock, staff_id: str, chat_id: str, text: str
) -> Outcome:
    text = checked_text(text)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        await say(uow, chat, now=clock.now(), sender="agent", sender_id=staff_id, body=text)
        return Outcome(view(chat), topics_of(chat))

    return await run_unit(engine, work)


async def agent_ends(engine: AsyncEngine, *, clock: Clock, actor: Actor, chat_id: str) -> Outcome:
    """The agent ends a chat they answered: transcript on the ticket, the ticket resolved."""
    staff_id = cast(str, actor.id)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        await say(
            uow,
            chat,
            now=clock.now(),
            sender="system",
            body=bot.says("ended_agent", chat_locale(chat)),
        )
        await close_chat(uow, chat, clock=clock, by="agent")
        await resolve_helped_ticket(uow, chat, clock=clock, actor=actor)
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.chat_ended",
            subject_type="user",
            subject_id=chat.user_id,
            details={"chat_id": chat.id, "ticket_id": chat.ticket_id},
        )
        return Outcome(view(chat), topics_of(chat))

    return await run_unit(engine, work)


async def agent_view(
    engine: AsyncEngine, *, staff_id: str, known: list[str], after_id: int
) -> tuple[list[ChatView], list[MessageView]]:
    """The agent's active chats (and ``known`` ones, to see them end), lines after ``after_id``."""

    async def work(uow: UnitOfWork) -> tuple[list[ChatView], list[MessageView]]:
        chats = await repo.chats_of_agent(uow.session, staff_id, also=known)
        mine = [c for c in chats if c.agent_id == staff_id]
        lines = await repo.messages(uow.session, [c.id for c in mine], after_id=after_id)
        return [view(c) for c in mine], [message_view(m) for m in lines]

    return await run_unit(engine, work, read_only=True)


async def chat_lines(engine: AsyncEngine, *, chat_id: str) -> list[MessageView]:
    async def work(uow: UnitOfWork) -> list[MessageView]:
        return [message_view(m) for m in await repo.messages(uow.session, [chat_id])]

    return await run_unit(engine, work, read_only=True)
