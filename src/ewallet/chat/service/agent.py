"""The agent's side of the chat: the queue, taking a chat, answering, ending, reading, leaving.

The staff member acting is ``actor`` (``Actor("staff", staff id)``). Taking, ending and
reading a chat are audit-logged in the same unit as the action; an agent acts only on
chats they took (another agent's chat is ``not_found`` to them).
"""

from __future__ import annotations

from typing import Final

from ewallet.audit.service import Actor, record_event
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.bus import QUEUE_TOPIC
from ewallet.chat.errors import ChatClosedError, ChatNotWaitingError
from ewallet.chat.service.closing import close_chat, close_for_no_agent, resolve_helped_ticket
from ewallet.chat.service.lines import chat_locale, checked_text, say, topics_of, with_lines
from ewallet.chat.views import ChatView, MessageView, Outcome, message_view, view
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.models.support_chat import ChatCloser, ChatSender, ChatStatus, SupportChat
from ewallet.services import Services
from ewallet.support.presence.service import agents_online_in, leave_in

# Waiting chats turned into tickets at once when the last agent leaves.
MAX_STRANDED: Final = 500


def _staff_id(actor: Actor) -> str:
    if actor.id is None:
        raise ValueError("an agent's action needs the staff member's id")
    return actor.id


async def _audit(
    services: Services,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    chat: SupportChat,
    **more: str | None,
) -> None:
    await record_event(
        await uow.connection(),
        clock=services.clock,
        actor=actor,
        action=action,
        subject_type="user",
        subject_id=chat.user_id,
        details={"chat_id": chat.id, **more},
    )


async def waiting(services: Services, *, limit: int = 100) -> list[ChatView]:
    """The queue, first in line first, each with its position and last customer line."""

    async def work(uow: UnitOfWork) -> list[ChatView]:
        session = uow.session
        chats = await repo.waiting_chats(session, limit=limit)
        return [
            view(chat, position=n, preview=await repo.last_customer_message(session, chat.id))
            for n, chat in enumerate(chats, start=1)
        ]

    return await run_unit(services.engine, work, read_only=True)


async def staff_chat(
    services: Services, actor: Actor, *, chat_id: str
) -> tuple[ChatView, list[MessageView]]:
    """Any chat with its lines, for staff; refusal: ``not_found``; the read is audit-logged."""

    async def work(uow: UnitOfWork) -> tuple[ChatView, list[MessageView]]:
        chat = await repo.chat(uow.session, chat_id)
        if chat is None:
            raise NotFoundError("no such chat")
        found = await with_lines(uow, chat, 0)
        await _audit(services, uow, actor, "support.chat_viewed", chat)
        return found

    return await run_unit(services.engine, work)


async def take(services: Services, actor: Actor, *, chat_id: str) -> Outcome:
    """An agent takes a waiting chat; audited.

    Refusals, in order: unknown chat (``not_found``), a chat not waiting -- taken by
    another agent (two racing for one: the second), or ended (``chat_not_waiting``).
    """
    staff_id = _staff_id(actor)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await repo.locked_chat(uow.session, chat_id)
        if chat is None:
            raise NotFoundError("no such chat")
        if chat.status != ChatStatus.QUEUED:
            raise ChatNotWaitingError("this chat is not waiting for an agent")
        now = services.clock.now()
        chat.status = ChatStatus.ACTIVE
        chat.agent_id = staff_id
        chat.assigned_at = now
        joined = bot.says("agent_joined", chat_locale(chat))
        await say(uow, chat, now=now, sender=ChatSender.SYSTEM, body=joined)
        await _audit(services, uow, actor, "support.chat_taken", chat)
        return Outcome(view(chat), topics_of(chat, QUEUE_TOPIC))

    return await run_unit(services.engine, work)


async def _agent_chat(uow: UnitOfWork, *, staff_id: str, chat_id: str) -> SupportChat:
    chat = await repo.locked_chat(uow.session, chat_id)
    if chat is None or chat.agent_id != staff_id:
        raise NotFoundError("no such chat among yours")
    if chat.status == ChatStatus.CLOSED:
        raise ChatClosedError("this chat has ended")
    return chat


async def agent_says(services: Services, actor: Actor, *, chat_id: str, text: str) -> Outcome:
    """A line to the customer. Refusals, in order: an empty or overlong line
    (``validation_error``), not one of the agent's chats (``not_found``), ended
    (``chat_closed``)."""
    text = checked_text(text)
    staff_id = _staff_id(actor)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        now = services.clock.now()
        await say(uow, chat, now=now, sender=ChatSender.AGENT, sender_id=staff_id, body=text)
        return Outcome(view(chat), topics_of(chat))

    return await run_unit(services.engine, work)


async def agent_ends(services: Services, actor: Actor, *, chat_id: str) -> Outcome:
    """The agent ends a chat they answered: transcript on the ticket, the ticket resolved.

    Refusals: not one of the agent's chats (``not_found``), ended (``chat_closed``); audited.
    """
    staff_id = _staff_id(actor)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        ended = bot.says("ended_agent", chat_locale(chat))
        await say(uow, chat, now=services.clock.now(), sender=ChatSender.SYSTEM, body=ended)
        await close_chat(services, uow, chat, by=ChatCloser.AGENT)
        await resolve_helped_ticket(services, uow, chat, actor=actor)
        await _audit(services, uow, actor, "support.chat_ended", chat, ticket_id=chat.ticket_id)
        return Outcome(view(chat), topics_of(chat))

    return await run_unit(services.engine, work)


async def agent_disconnected(services: Services, *, connection_id: str) -> frozenset[str]:
    """The agent's socket closed. If that was the last agent, nobody will take the chats
    still waiting: each becomes a ticket (the customer is told its reference) and closes.
    Returns the topics to publish."""

    async def work(uow: UnitOfWork) -> frozenset[str]:
        await leave_in(uow, connection_id=connection_id)
        if await agents_online_in(services, uow):
            return frozenset()
        topics: set[str] = set()
        for queued in await repo.waiting_chats(uow.session, limit=MAX_STRANDED):
            chat = await repo.locked_chat(uow.session, queued.id)
            if chat is None or chat.status != ChatStatus.QUEUED:
                continue  # taken or ended meanwhile
            await close_for_no_agent(services, uow, chat)
            topics |= topics_of(chat, QUEUE_TOPIC)
        return frozenset(topics)

    return await run_unit(services.engine, work)


async def agent_view(
    services: Services, staff_id: str, *, known: list[str], after_id: int
) -> tuple[list[ChatView], list[MessageView]]:
    """The agent's active chats (and ``known`` ones, to see them end), lines after ``after_id``."""

    async def work(uow: UnitOfWork) -> tuple[list[ChatView], list[MessageView]]:
        chats = await repo.chats_of_agent(uow.session, staff_id, also=known)
        mine = [c for c in chats if c.agent_id == staff_id]
        lines = await repo.messages(uow.session, [c.id for c in mine], after_id=after_id)
        return [view(c) for c in mine], [message_view(m) for m in lines]

    return await run_unit(services.engine, work, read_only=True)


async def chat_lines(services: Services, *, chat_id: str) -> list[MessageView]:
    """Every line of a chat (an agent's socket shows the history of a chat it was given)."""

    async def work(uow: UnitOfWork) -> list[MessageView]:
        return [message_view(m) for m in await repo.messages(uow.session, [chat_id])]

    return await run_unit(services.engine, work, read_only=True)
