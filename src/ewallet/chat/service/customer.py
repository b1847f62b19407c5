"""The customer's side of the chat: open or rejoin, talk to the bot or agent, hand over, end.

Each use case is one transaction on the customer's own (locked) chat, for the customer
``user_id``; another customer's chat does not exist for them (``not_found``), and an ended
chat takes nothing more (``chat_closed``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from ewallet.audit.service import Actor
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.bus import QUEUE_TOPIC
from ewallet.chat.errors import ChatClosedError
from ewallet.chat.service.closing import close_chat, close_for_no_agent, resolve_helped_ticket
from ewallet.chat.service.lines import chat_locale, checked_text, say, topics_of, with_lines
from ewallet.chat.views import ChatView, MessageView, Outcome, view
from ewallet.help import service as help_service
from ewallet.help.deps import HelpSearch
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.i18n import EN, ZH_CN, Locale
from ewallet.kit.ids import new_id
from ewallet.models.support_chat import ChatCloser, ChatSender, ChatStatus, SupportChat
from ewallet.services import Services
from ewallet.support.presence.service import agents_online_in

SOCKET_TOKEN_TTL: Final = timedelta(minutes=1)


def socket_token(services: Services, *, user_id: str, session_id: str) -> str:
    """A one-minute access token of the live session ``session_id``, for the chat socket's
    ``auth`` frame.

    A browser signed in with the wallet's cookie holds no API token; the page that checked
    the cookie's session mints this one for its script, which sends it as its first frame.
    The socket checks it as any app's token (signature, expiry, the session still live), so
    signing out ends the browser's chat as it ends an app's. It only has to open the
    socket: it is short-lived, and a script that reconnects asks for a fresh one.
    """
    return services.security.tokens.issue(
        subject=user_id,
        session_id=session_id,
        kind="user",
        now=services.clock.now(),
        ttl=SOCKET_TOKEN_TTL,
    )


async def _customer_chat(uow: UnitOfWork, *, user_id: str, chat_id: str) -> SupportChat:
    """The customer's own chat, locked; another customer's chat does not exist for them."""
    chat = await repo.locked_chat(uow.session, chat_id)
    if chat is None or chat.user_id != user_id:
        raise NotFoundError("no such chat")
    if chat.status == ChatStatus.CLOSED:
        raise ChatClosedError("this chat has ended")
    return chat


async def open_chat(
    services: Services, user_id: str, *, locale: Locale, chat_id: str | None
) -> Outcome:
    """Rejoin ``chat_id`` (the customer's own, still open), else their open chat, else a new one.

    Refusals (rejoining ``chat_id``): ``not_found``, ``chat_closed``.
    """

    async def work(uow: UnitOfWork) -> Outcome:
        if chat_id is not None:
            chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
            return Outcome(view(chat))
        existing = await repo.open_chat_of(uow.session, user_id)
        if existing is not None:
            return Outcome(view(existing))
        now = services.clock.now()
        chat = SupportChat(
            id=new_id("chat"),
            user_id=user_id,
            status=ChatStatus.BOT,
            locale=locale,
            unhelpful_streak=0,
            created_at=now,
            updated_at=now,
        )
        await repo.add_chat(uow.session, chat)
        await say(uow, chat, now=now, sender=ChatSender.BOT, body=bot.says("welcome", locale))
        return Outcome(view(chat), topics_of(chat))

    return await run_unit(services.engine, work)


async def customer_says(
    services: Services, user_id: str, *, search: HelpSearch, chat_id: str, text: str
) -> Outcome:
    """A customer's line: to the bot (which answers or hands over), or to the agent.

    Refusals, in order: an empty or overlong line (``validation_error``, before anything),
    then the chat's (``not_found``, ``chat_closed``).
    """
    text = checked_text(text)
    settings = services.settings
    answer: bot.BotAnswer | None = None
    asks_human = bot.wants_human(text)
    locale = await _stored_locale(services, chat_id)
    if not asks_human:
        # Searched before the transaction: the index is read outside it, and a rerun of the
        # unit of work must not search again.
        found = await help_service.search_articles(
            services, search, query=text, limit=bot.SUGGESTIONS
        )
        answer = bot.answer(found, locale=locale, min_score=settings.support_chat_bot_min_score)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        now = services.clock.now()
        await say(uow, chat, now=now, sender=ChatSender.CUSTOMER, sender_id=user_id, body=text)
        if chat.status != ChatStatus.BOT:
            return Outcome(view(chat), topics_of(chat))
        if asks_human or answer is None:
            extra = await _hand_over(services, uow, chat)
            return Outcome(view(chat), topics_of(chat, *extra))
        await say(
            uow,
            chat,
            now=now,
            sender=ChatSender.BOT,
            body=answer.text,
            articles=[s.as_json() for s in answer.suggestions],
        )
        chat.unhelpful_streak = 0 if answer.confident else chat.unhelpful_streak + 1
        extra = set()
        if chat.unhelpful_streak >= settings.support_chat_bot_unhelpful_limit:
            extra = await _hand_over(services, uow, chat)
        return Outcome(view(chat), topics_of(chat, *extra))

    return await run_unit(services.engine, work)


async def _stored_locale(services: Services, chat_id: str) -> Locale:
    async def work(uow: UnitOfWork) -> str | None:
        chat = await repo.chat(uow.session, chat_id)
        return chat.locale if chat is not None else None

    return EN if await run_unit(services.engine, work, read_only=True) == EN else ZH_CN


async def customer_feedback(
    services: Services, user_id: str, *, chat_id: str, helpful: bool
) -> Outcome:
    """ "Did that help?" on the bot's last answer: two misses in a row call a human."""

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        if chat.status != ChatStatus.BOT:
            return Outcome(view(chat))
        now = services.clock.now()
        if helpful:
            chat.unhelpful_streak = 0
            glad = bot.says("glad", chat_locale(chat))
            await say(uow, chat, now=now, sender=ChatSender.BOT, body=glad)
            return Outcome(view(chat), topics_of(chat))
        chat.unhelpful_streak += 1
        chat.updated_at = now
        extra: set[str] = set()
        if chat.unhelpful_streak >= services.settings.support_chat_bot_unhelpful_limit:
            extra = await _hand_over(services, uow, chat)
        return Outcome(view(chat), topics_of(chat, *extra))

    return await run_unit(services.engine, work)


async def ask_for_agent(services: Services, user_id: str, *, chat_id: str) -> Outcome:
    """The customer asks for a person: to the queue, or (nobody online) a ticket."""

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        if chat.status != ChatStatus.BOT:
            return Outcome(view(chat))
        extra = await _hand_over(services, uow, chat)
        return Outcome(view(chat), topics_of(chat, *extra))

    return await run_unit(services.engine, work)


async def customer_ends(services: Services, user_id: str, *, chat_id: str) -> Outcome:
    """The customer leaves. If an agent had taken the chat, its ticket is resolved as when
    the agent ends it: the help was given, the customer merely said goodbye first."""

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _customer_chat(uow, user_id=user_id, chat_id=chat_id)
        was_queued = chat.status == ChatStatus.QUEUED
        await say(
            uow,
            chat,
            now=services.clock.now(),
            sender=ChatSender.SYSTEM,
            body=bot.says("ended_customer", chat_locale(chat)),
        )
        await close_chat(services, uow, chat, by=ChatCloser.CUSTOMER)
        await resolve_helped_ticket(services, uow, chat, actor=Actor("user", user_id))
        return Outcome(view(chat), topics_of(chat, *([QUEUE_TOPIC] if was_queued else [])))

    return await run_unit(services.engine, work)


async def _hand_over(services: Services, uow: UnitOfWork, chat: SupportChat) -> set[str]:
    """To the queue when an agent is online; else the chat becomes a ticket and closes."""
    if await agents_online_in(services, uow):
        now = services.clock.now()
        chat.status = ChatStatus.QUEUED
        chat.queued_at = now
        queued = bot.says("queued", chat_locale(chat))
        await say(uow, chat, now=now, sender=ChatSender.SYSTEM, body=queued)
        return {QUEUE_TOPIC}
    await close_for_no_agent(services, uow, chat)
    return set()


# Reading.


async def customer_chat(
    services: Services, user_id: str, *, chat_id: str, after_id: int = 0
) -> tuple[ChatView, list[MessageView]]:
    """The customer's own chat and its lines after ``after_id``; another's is ``not_found``."""

    async def work(uow: UnitOfWork) -> tuple[ChatView, list[MessageView]]:
        chat = await repo.chat(uow.session, chat_id)
        if chat is None or chat.user_id != user_id:
            raise NotFoundError("no such chat")
        return await with_lines(uow, chat, after_id)

    return await run_unit(services.engine, work, read_only=True)


async def customer_chats(services: Services, user_id: str, *, limit: int) -> list[ChatView]:
    """The customer's chats, newest first."""

    async def work(uow: UnitOfWork) -> list[ChatView]:
        return [view(chat) for chat in await repo.chats_of(uow.session, user_id, limit=limit)]

    return await run_unit(services.engine, work, read_only=True)
