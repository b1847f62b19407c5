"""The customer's side of the chat: open or rejoin, talk to the bot or agent, hand over, end.

Each use case is one transaction on the customer's own (locked) chat; another customer's
chat does not exist for them (404).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.bus import QUEUE_TOPIC
from ewallet.chat.closing import close_chat, close_for_no_agent, resolve_helped_ticket
from ewallet.chat.common import chat_locale, checked_text, say, topics_of, with_lines
from ewallet.chat.errors import ChatClosedError
from ewallet.chat.views import ChatView, MessageView, Outcome, view
from ewallet.config import Settings
from ewallet.help.search import HelpSearch
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.i18n import EN, ZH_CN, Locale
from ewallet.kit.ids import new_id
from ewallet.models.support_chat import SupportChat


async def _customer_chat(uow: UnitOfWork, *, user_id: str, chat_id: str) -> SupportChat:
    """The customer's own chat, locked; another customer's chat does not exist for them."""
    chat = await repo.locked_chat(uow.session, chat_id)
    if chat is None or chat.user_id != user_id:
        raise NotFoundError("no such chat")
    if chat.status == "closed":
        raise ChatClosedError("this chat has ended")
    return chat


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
        await say(uow, chat, now=now, sender="bot", body=bot.says("welcome", locale))
        return Outcome(view(chat), topics_of(chat))

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
    text = checked_text(text)
    answer: bot.BotAnswer | None = None
    asks_human = bot.wants_human(text)
    locale = await _stored_locale(engine, chat_id)
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
        await say(uow, chat, now=now, sender="customer", sender_id=user_id, body=text)
        if chat.status != "bot":
            return Outcome(view(chat), topics_of(chat))
        if asks_human or answer is None:
            extra = await _hand_over(uow, chat, clock=clock, settings=settings)
            return Outcome(view(chat), topics_of(chat, *extra))
        await say(
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
        return Outcome(view(chat), topics_of(chat, *extra))

    return await run_unit(engine, work)


async def _stored_locale(engine: AsyncEngine, chat_id: str) -> Locale:
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
            await say(uow, chat, now=now, sender="bot", body=bot.says("glad", chat_locale(chat)))
            return Outcome(view(chat), topics_of(chat))
        chat.unhelpful_streak += 1
        chat.updated_at = now
        extra: set[str] = set()
        if chat.unhelpful_streak >= settings.support_chat_bot_unhelpful_limit:
            extra = await _hand_over(uow, chat, clock=clock, settings=settings)
        return Outcome(view(chat), topics_of(chat, *extra))

    return await run_unit(engine, work)


async def ask_for_agent(
    engine: AsyncEngine, *, clock: Clock, settings: Settings, user_id: str, chat_id: str
) -> Outcome:
    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        if chat.status != "bot":
            return Outcome(view(chat))
        extra = await _hand_over(uow, chat, clock=clock, settings=settings)
        return Outcome(view(chat), topics_of(chat, *extra))

    return await run_unit(engine, work)


async def customer_ends(
    engine: AsyncEngine, *, clock: Clock, user_id: str, chat_id: str
) -> Outcome:
    """The customer leaves. If an agent had taken the chat, its ticket is resolved as when
    the agent ends it: the help was given, the customer merely said goodbye first."""

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        was_queued = chat.status == "queued"
        await say(
            uow,
            chat,
            now=clock.now(),
            sender="system",
            body=bot.says("ended_customer", chat_locale(chat)),
        )
        await close_chat(uow, chat, clock=clock, by="customer")
        await resolve_helped_ticket(uow, chat, clock=clock, actor=Actor("user", user_id))
        return Outcome(view(chat), topics_of(chat, *([QUEUE_TOPIC] if was_queued else [])))

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
        await say(uow, chat, now=now, sender="system", body=bot.says("queued", chat_locale(chat)))
        return {QUEUE_TOPIC}
    await close_for_no_agent(uow, chat, clock=clock)
    return set()


# Reading.


async def customer_chat(
    engine: AsyncEngine, *, user_id: str, chat_id: str, after_id: int = 0
) -> tuple[ChatView, list[MessageView]]:
    """The customer's own chat and its lines after ``after_id``; another's is 404."""

    async def work(uow: UnitOfWork) -> tuple[ChatView, list[MessageView]]:
        chat = await uow.session.get(SupportChat, chat_id)
        if chat is None or chat.user_id != user_id:
            raise NotFoundError("no such chat")
        return await with_lines(uow, chat, after_id)

    return await run_unit(engine, work, read_only=True)


async def customer_chats(engine: AsyncEngine, *, user_id: str, limit: int) -> list[ChatView]:
    async def work(uow: UnitOfWork) -> list[ChatView]:
        return [view(chat) for chat in await repo.chats_of(uow.session, user_id, limit=limit)]

    return await run_unit(engine, work, read_only=True)
