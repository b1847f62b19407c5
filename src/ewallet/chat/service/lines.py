"""The lines of a chat and what every side of it shares: its locale, checked text, topics."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ewallet.chat import repository as repo
from ewallet.chat.bus import agent_topic, chat_topic
from ewallet.chat.views import ChatView, MessageView, message_view, view
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.i18n import EN, ZH_CN, Locale
from ewallet.models.support_chat import ChatSender, SupportChat, SupportChatMessage

MAX_TEXT: Final = 2000


def chat_locale(chat: SupportChat) -> Locale:
    return EN if chat.locale == EN else ZH_CN


def checked_text(value: str) -> str:
    """A line as typed, trimmed; empty or overlong lines are refused before any transaction."""
    text = value.strip()
    if not text:
        raise ValidationFailedError("a chat message must not be empty")
    if len(text) > MAX_TEXT:
        raise ValidationFailedError(f"a chat message has at most {MAX_TEXT} characters")
    return text


def topics_of(chat: SupportChat, *extra: str) -> frozenset[str]:
    """The chat's own topic, its agent's (if any) and ``extra``: everyone who must re-read."""
    topics = {chat_topic(chat.id), *extra}
    if chat.agent_id is not None:
        topics.add(agent_topic(chat.agent_id))
    return frozenset(topics)


async def say(
    uow: UnitOfWork,
    chat: SupportChat,
    *,
    now: datetime,
    sender: ChatSender,
    body: str,
    sender_id: str | None = None,
    articles: list[dict[str, Any]] | None = None,
) -> None:
    """Add one line to the chat, in the caller's unit."""
    line = SupportChatMessage(
        chat_id=chat.id,
        sender=sender,
        sender_id=sender_id,
        body=body,
        articles=articles,
        created_at=now,
    )
    chat.updated_at = now
    await repo.add_line(uow.session, line)


async def with_lines(
    uow: UnitOfWork, chat: SupportChat, after_id: int
) -> tuple[ChatView, list[MessageView]]:
    """The chat with its queue position and its lines after ``after_id``."""
    position = await repo.queue_position(uow.session, chat)
    lines = await repo.messages(uow.session, [chat.id], after_id=after_id)
    return view(chat, position=position), [message_view(m) for m in lines]
