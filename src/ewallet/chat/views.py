"""What the chat services hand back: plain views of chats and lines, and the transcript text.

Views are frozen copies, so nothing outside a unit of work touches an ORM row after its
session closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ewallet.kit.i18n import EN, Locale
from ewallet.models.support_chat import ChatSender, SupportChat, SupportChatMessage
from ewallet.support.presence.service import AgentPresence


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
    """A changed chat and the bus topics to wake.

    The caller publishes ``topics`` *after* the commit, so nobody is woken to read a change
    that is not there yet.
    """

    chat: ChatView
    topics: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class AgentView:
    """What an agent's socket re-reads: their chats (with ``known`` ones that ended), the
    new lines, and the ``known`` chats no longer theirs (handed over)."""

    chats: list[ChatView]
    lines: list[MessageView]
    released: list[ChatView]


@dataclass(frozen=True, slots=True)
class Desk:
    """The chat desk as a page shows it: the queue, the agent's chats, who is connected."""

    waiting: list[ChatView]
    mine: list[ChatView]
    agents: list[AgentPresence]
    away: bool


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


_SPEAKERS: dict[str, tuple[str, str]] = {
    ChatSender.CUSTOMER: ("客户", "Customer"),
    ChatSender.BOT: ("智能客服", "Bot"),
    ChatSender.AGENT: ("客服", "Agent"),
    ChatSender.SYSTEM: ("系统", "System"),
}


def transcript(lines: Sequence[SupportChatMessage], *, locale: Locale) -> str:
    """The chat as text, one line per message: ``[2026-03-02 09:00:05] 客户: ...``."""
    out = []
    for line in lines:
        zh, en = _SPEAKERS[line.sender]
        who = en if locale == EN else zh
        if line.sender == ChatSender.AGENT and line.sender_id:
            who = f"{who} {line.sender_id}"
        out.append(f"[{line.created_at:%Y-%m-%d %H:%M:%S}] {who}: {line.body}")
    return "\n".join(out)
