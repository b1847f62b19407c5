"""The chat's rules: each use case one transaction on the chat row, then the topics to wake.

States::

    bot ──"人工"/unsure twice──▶ queued ──agent takes──▶ active ──either ends──▶ closed
     │                            │
     └── no agent online ─────────┴──▶ closed, as a ticket (channel "chat")

Every function returns an :class:`Outcome` whose ``topics`` the caller publishes on the
chat bus *after* the commit (so nobody is woken to read a change that is not there yet).
Every chat that closes leaves its transcript on a ticket: the ticket opened when no agent
was online, or one opened at the end (channel ``chat``), so agents find every conversation
with the customer's other tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.bus import QUEUE_TOPIC, agent_topic, chat_topic
from ewallet.chat.errors import ChatClosedError, ChatNotWaitingError
from ewallet.config import Settings
from ewallet.help.search import HelpSearch
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.i18n import EN, ZH_CN, Locale
from ewallet.kit.ids import new_id
from ewallet.models.support import SupportTicket
from ewallet.models.support_chat import SupportAgentPresence, SupportChat, SupportChatMessage
from ewallet.support.tickets import add_message, open_ticket

MAX_TEXT = 2000
# Waiting chats turned into tickets at once when the last agent leaves.
MAX_STRANDED = 500
SUBJECT_CHARS = 60
Sender = Literal["customer", "bot", "agent", "system"]


@dataclass(frozen=True, slots=True)
class ChatView:
    id: str
    user_id: str
    status: str
    locale: str
    agent_id: str | None
    ticket_id: str | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    queue_position: int | None = None
    preview: str | None = None


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    chat_id: str
    sender: str
    sender_id: str | None
    body: str
    articles: list[dict[str, Any]] | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    chat: ChatView
    topics: frozenset[str] = field(default_factory=frozenset)


def view(chat: SupportChat, *, position: int | None = None, preview: str | None = None) -> ChatView:
    return ChatView(
        id=chat.id,
        user_id=chat.user_id,
        status=chat.status,
        locale=chat.locale,
        agent_id=chat.agent_id,
        ticket_id=chat.ticket_id,
        created_at=chat.created_at,
        closed_at=chat.closed_at,
        closed_by=chat.closed_by,
        queue_position=position,
        preview=preview,
    )


def message_view(message: SupportChatMessage) -> MessageView:
    return MessageView(
        id=message.id,
        chat_id=message.chat_id,
        sender=message.sender,
        sender_id=message.sender_id,
        body=message.body,
        articles=message.articles,
        created_at=message.created_at,
    )


def _locale(chat: SupportChat) -> Locale:
    return EN if chat.locale == EN else ZH_CN


def _text(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailedError("a chat message must not be empty")
    if len(text) > MAX_TEXT:
        raise ValidationFailedError(f"a chat message has at most {MAX_TEXT} characters")
    return text


def _topics(chat: SupportChat, *extra: str) -> frozenset[str]:
    topics = {chat_topic(chat.id), *extra}
    if chat.agent_id is not None:
        topics.add(agent_topic(chat.agent_id))
    return frozenset(topics)


async def _say(
    uow: UnitOfWork,
    chat: SupportChat,
    *,
    now: datetime,
    sender: Sender,
    body: str,
    sender_id: str | None = None,
    articles: list[dict[str, Any]] | None = None,
) -> None:
    uow.session.add(
        SupportChatMessage(
            chat_id=chat.id,
            sender=sender,
            sender_id=sender_id,
            body=body,
            articles=articles,
            created_at=now,
        )
    )
    chat.updated_at = now
    await uow.session.flush()


async def _customer_chat(uow: UnitOfWork, *, user_id: str, chat_id: str) -> SupportChat:
    """The customer's own chat, locked; another customer's chat does not exist for them."""
    chat = await repo.locked_chat(uow.session, chat_id)
    if chat is None or chat.user_id != user_id:
        raise NotFoundError("no such chat")
    if chat.status == "closed":
        raise ChatClosedError("this chat has ended")
    return chat


# The customer's side.


async def open_chat(
    engine: AsyncEngine, *, clock: Clock, user_id: str, locale: Locale, chat_id: str | None
) -> Outcome:
    """Rejoin ``chat_id`` (the customer's own, still open), else their open chat, else a new one."""

    async def work(uow: UnitOfWork) -> Outcome:
        session = uow.session
        if chat_id is not None:
            chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
            return Outcome(view(chat))
        existing = await repo.open_chat_of(session, user_id)
        if existing is not None:
            return Outcome(view(existing))
        now = clock.now()
        chat = SupportChat(
            id=new_id("chat"),
            user_id=user_id,
            status="bot",
            locale=locale,
            unhelpful_streak=0,
            created_at=now,
            updated_at=now,
        )
        session.add(chat)
        await session.flush()
        await _say(uow, chat, now=now, sender="bot", body=bot.says("welcome", locale))
        return Outcome(view(chat), _topics(chat))

    return await run_unit(engine, work)


async def customer_says(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    search: HelpSearch,
    user_id: str,
    chat_id: str,
    text: str,
) -> Outcome:
    """A customer's line: to the bot (which answers or hands over), or to the agent."""
    text = _text(text)
    answer: bot.BotAnswer | None = None
    asks_human = bot.wants_human(text)
    locale = await _chat_locale(engine, chat_id)
    if not asks_human:
        # Searched before the transaction: the index is read outside it, and a rerun of the
        # unit of work must not search again.
        answer = await bot.answer(
            search,
            engine,
            text,
            locale=locale,
            min_score=settings.support_chat_bot_min_score,
        )

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        now = clock.now()
        await _say(uow, chat, now=now, sender="customer", sender_id=user_id, body=text)
        if chat.status != "bot":
            return Outcome(view(chat), _topics(chat))
        if asks_human or answer is None:
            extra = await _hand_over(uow, chat, clock=clock, settings=settings)
            return Outcome(view(chat), _topics(chat, *extra))
        await _say(
            uow,
            chat,
            now=now,
            sender="bot",
            body=answer.text,
            articles=[s.as_json() for s in answer.suggestions],
        )
        chat.unhelpful_streak = 0 if answer.confident else chat.unhelpful_streak + 1
        extra = set()
        if chat.unhelpful_streak >= settings.support_chat_bot_unhelpful_limit:
            extra = await _hand_over(uow, chat, clock=clock, settings=settings)
        return Outcome(view(chat), _topics(chat, *extra))

    return await run_unit(engine, work)


async def _chat_locale(engine: AsyncEngine, chat_id: str) -> Locale:
    async def work(uow: UnitOfWork) -> str | None:
        chat = await uow.session.get(SupportChat, chat_id)
        return chat.locale if chat is not None else None

    return EN if await run_unit(engine, work, read_only=True) == EN else ZH_CN


async def customer_feedback(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    user_id: str,
    chat_id: str,
    helpful: bool,
) -> Outcome:
    """ "Did that help?" on the bot's last answer: two misses in a row call a human."""

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        if chat.status != "bot":
            return Outcome(view(chat))
        now = clock.now()
        if helpful:
            chat.unhelpful_streak = 0
            await _say(uow, chat, now=now, sender="bot", body=bot.says("glad", _locale(chat)))
            return Outcome(view(chat), _topics(chat))
        chat.unhelpful_streak += 1
        chat.updated_at = now
        extra: set[str] = set()
        if chat.unhelpful_streak >= settings.support_chat_bot_unhelpful_limit:
            extra = await _hand_over(uow, chat, clock=clock, settings=settings)
        return Outcome(view(chat), _topics(chat, *extra))

    return await run_unit(engine, work)


async def ask_for_agent(
    engine: AsyncEngine, *, clock: Clock, settings: Settings, user_id: str, chat_id: str
) -> Outcome:
    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        if chat.status != "bot":
            return Outcome(view(chat))
        extra = await _hand_over(uow, chat, clock=clock, settings=settings)
        return Outcome(view(chat), _topics(chat, *extra))

    return await run_unit(engine, work)


async def customer_ends(
    engine: AsyncEngine, *, clock: Clock, user_id: str, chat_id: str
) -> Outcome:
    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        was_queued = chat.status == "queued"
        await _say(
            uow,
            chat,
            now=clock.now(),
            sender="system",
            body=bot.says("ended_customer", _locale(chat)),
        )
        await _close(uow, chat, clock=clock, by="customer")
        return Outcome(view(chat), _topics(chat, *([QUEUE_TOPIC] if was_queued else [])))

    return await run_unit(engine, work)


async def _hand_over(
    uow: UnitOfWork, chat: SupportChat, *, clock: Clock, settings: Settings
) -> set[str]:
    """To the queue when an agent is online; else the chat becomes a ticket and closes."""
    now = clock.now()
    ttl = timedelta(seconds=settings.support_chat_presence_seconds)
    if await repo.agents_online(uow.session, now=now, ttl=ttl):
        chat.status = "queued"
        chat.queued_at = now
        await _say(uow, chat, now=now, sender="system", body=bot.says("queued", _locale(chat)))
        return {QUEUE_TOPIC}
    reference = await _ticket_for(uow, chat, clock=clock, acknowledge=True)
    await _say(
        uow,
        chat,
        now=now,
        sender="system",
        body=bot.says("no_agent", _locale(chat), reference=reference),
    )
    await _close(uow, chat, clock=clock, by="system")
    return set()


async def _ticket_for(
    uow: UnitOfWork, chat: SupportChat, *, clock: Clock, acknowledge: bool
) -> str:
    """The chat's ticket (opened now if it has none); returns its reference (TKT-...)."""
    session = uow.session
    if chat.ticket_id is None:
        lines = await repo.messages(session, [chat.id])
        asked = [m.body for m in lines if m.sender == "customer"]
        first = asked[0] if asked else bot.says("welcome", _locale(chat))
        subject = ("在线客服：" if _locale(chat) == ZH_CN else "Online chat: ") + first
        chat.ticket_id = await open_ticket(
            uow,
            clock=clock,
            user_id=chat.user_id,
            email=None,
            subject=subject[:SUBJECT_CHARS],
            body="\n".join(asked) or first,
            channel="chat",
            author_type="customer",
            author_id=chat.user_id,
            acknowledge=acknowledge,
        )
        await session.flush()
    ticket = await session.get(SupportTicket, chat.ticket_id)
    assert ticket is not None  # just opened, or kept by the foreign key
    return ticket.reference


async def _close(
    uow: UnitOfWork, chat: SupportChat, *, clock: Clock, by: Literal["customer", "agent", "system"]
) -> None:
    """Close the chat and save its whole transcript on its ticket as one message.

    A chat only the bot took part in, ended by the customer, opens no ticket: there is
    nothing for an agent to follow up, and a ticket per bot conversation would bury the
    agents' queue. Its lines stay in the chat history.
    """
    now = clock.now()
    if chat.ticket_id is None and chat.agent_id is None and chat.status == "bot":
        body = bot.says("kept_in_history", _locale(chat))
        await _say(uow, chat, now=now, sender="system", body=body)
        chat.status, chat.closed_at, chat.closed_by = "closed", now, by
        await uow.session.flush()
        return
    reference = await _ticket_for(uow, chat, clock=clock, acknowledge=False)
    lines = await repo.messages(uow.session, [chat.id])
    assert chat.ticket_id is not None
    ticket = await uow.session.get(SupportTicket, chat.ticket_id)
    assert ticket is not None
    await add_message(
        uow,
        clock=clock,
        ticket_id=chat.ticket_id,
        author_type="system",
        author_id=None,
        body=transcript(lines, locale=_locale(chat)),
        # A ticket staff already closed takes only internal notes: the transcript still lands.
        internal=ticket.status == "closed",
        send_email=False,
    )
    await _say(
        uow,
        chat,
        now=now,
        sender="system",
        body=bot.says("transcript", _locale(chat), reference=reference),
    )
    chat.status = "closed"
    chat.closed_at = now
    chat.closed_by = by
    await uow.session.flush()


_SPEAKERS = {
    "customer": ("客户", "Customer"),
    "bot": ("智能客服", "Bot"),
    "agent": ("客服", "Agent"),
    "system": ("系统", "System"),
}


def transcript(lines: list[SupportChatMessage] | Any, *, locale: Locale) -> str:
    """The chat as text, one line per message: ``[2026-03-02 09:00:05] 客户: ...``."""
    out = []
    for line in lines:
        zh, en = _SPEAKERS[line.sender]
        who = en if locale == EN else zh
        if line.sender == "agent" and line.sender_id:
            who = f"{who} {line.sender_id}"
        out.append(f"[{line.created_at:%Y-%m-%d %H:%M:%S}] {who}: {line.body}")
    return "\n".join(out)


# Reading, for either side.


async def customer_chat(
    engine: AsyncEngine, *, user_id: str, chat_id: str, after_id: int = 0
) -> tuple[ChatView, list[MessageView]]:
    """The customer's own chat and its lines after ``after_id``; another's is 404."""

    async def work(uow: UnitOfWork) -> tuple[ChatView, list[MessageView]]:
        chat = await uow.session.get(SupportChat, chat_id)
        if chat is None or chat.user_id != user_id:
            raise NotFoundError("no such chat")
        return await _with_lines(uow, chat, after_id)

    return await run_unit(engine, work, read_only=True)


async def _with_lines(
    uow: UnitOfWork, chat: SupportChat, after_id: int
) -> tuple[ChatView, list[MessageView]]:
    position = await repo.queue_position(uow.session, chat)
    lines = await repo.messages(uow.session, [chat.id], after_id=after_id)
    return view(chat, position=position), [message_view(m) for m in lines]


async def customer_chats(engine: AsyncEngine, *, user_id: str, limit: int) -> list[ChatView]:
    async def work(uow: UnitOfWork) -> list[ChatView]:
        return [view(chat) for chat in await repo.chats_of(uow.session, user_id, limit=limit)]

    return await run_unit(engine, work, read_only=True)


async def staff_chat(
    engine: AsyncEngine, *, clock: Clock, actor: Actor, chat_id: str
) -> tuple[ChatView, list[MessageView]]:
    """Any chat with its lines, for staff; the read is audit-logged."""

    async def work(uow: UnitOfWork) -> tuple[ChatView, list[MessageView]]:
        chat = await uow.session.get(SupportChat, chat_id)
        if chat is None:
            raise NotFoundError("no such chat")
        found = await _with_lines(uow, chat, 0)
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


# The agent's side.


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
        await _say(
            uow, chat, now=now, sender="system", body=bot.says("agent_joined", _locale(chat))
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
        return Outcome(view(chat), _topics(chat, QUEUE_TOPIC))

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
    text = _text(text)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        await _say(uow, chat, now=clock.now(), sender="agent", sender_id=staff_id, body=text)
        return Outcome(view(chat), _topics(chat))

    return await run_unit(engine, work)


async def agent_ends(engine: AsyncEngine, *, clock: Clock, actor: Actor, chat_id: str) -> Outcome:
    staff_id = cast(str, actor.id)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        await _say(
            uow, chat, now=clock.now(), sender="system", body=bot.says("ended_agent", _locale(chat))
        )
        await _close(uow, chat, clock=clock, by="agent")
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.chat_ended",
            subject_type="user",
            subject_id=chat.user_id,
            details={"chat_id": chat.id, "ticket_id": chat.ticket_id},
        )
        return Outcome(view(chat), _topics(chat))

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


# Agent presence: one row per connected agent socket.


async def agent_connected(engine: AsyncEngine, *, clock: Clock, staff_id: str) -> str:
    connection_id = new_id("apc")

    async def work(uow: UnitOfWork) -> str:
        now = clock.now()
        uow.session.add(
            SupportAgentPresence(
                connection_id=connection_id, staff_id=staff_id, connected_at=now, last_seen_at=now
            )
        )
        await uow.session.flush()
        return connection_id

    return await run_unit(engine, work)


async def agent_heartbeat(
    engine: AsyncEngine, *, clock: Clock, staff_id: str, connection_id: str
) -> None:
    async def work(uow: UnitOfWork) -> None:
        now = clock.now()
        if await repo.touch_presence(uow.session, connection_id, now=now) == 0:
            # Swept away meanwhile (a long pause): the socket is still here, so count it again.
            uow.session.add(
                SupportAgentPresence(
                    connection_id=connection_id,
                    staff_id=staff_id,
                    connected_at=now,
                    last_seen_at=now,
                )
            )
            await uow.session.flush()

    await run_unit(engine, work)


async def agent_disconnected(
    engine: AsyncEngine, *, clock: Clock, settings: Settings, connection_id: str
) -> frozenset[str]:
    """The agent's socket closed. If that was the last agent, nobody will take the chats
    still waiting: each becomes a ticket (the customer is told its reference) and closes.
    Returns the topics to publish."""

    async def work(uow: UnitOfWork) -> frozenset[str]:
        session = uow.session
        await repo.remove_presence(session, connection_id)
        ttl = timedelta(seconds=settings.support_chat_presence_seconds)
        if await repo.agents_online(session, now=clock.now(), ttl=ttl):
            return frozenset()
        topics: set[str] = set()
        for queued in await repo.waiting_chats(session, limit=MAX_STRANDED):
            chat = await repo.locked_chat(session, queued.id)
            if chat is None or chat.status != "queued":
                continue  # taken or ended meanwhile
            reference = await _ticket_for(uow, chat, clock=clock, acknowledge=True)
            await _say(
                uow,
                chat,
                now=clock.now(),
                sender="system",
                body=bot.says("no_agent", _locale(chat), reference=reference),
            )
            await _close(uow, chat, clock=clock, by="system")
            topics |= _topics(chat, QUEUE_TOPIC)
        return frozenset(topics)

    return await run_unit(engine, work)


async def any_agent_online(engine: AsyncEngine, *, clock: Clock, settings: Settings) -> bool:
    async def work(uow: UnitOfWork) -> bool:
        ttl = timedelta(seconds=settings.support_chat_presence_seconds)
        return await repo.agents_online(uow.session, now=clock.now(), ttl=ttl)

    return await run_unit(engine, work, read_only=True)
