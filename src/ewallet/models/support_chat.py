"""Online chat, agent presence and call-back requests (docs/chat.md).

Chat state lives here, not in a process: any API process can serve either side of a chat,
and the pub/sub bus only says "look again" (ewallet.chat.bus). Agent presence is read and
written by support (ewallet.support.presence), which decides where a hand-over goes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class ChatStatus(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ACTIVE = "active"
    CLOSED = "closed"


class ChatSender(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class ChatCloser(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class CallbackStatus(StrEnum):
    REQUESTED = "requested"
    DONE = "done"
    CANCELLED = "cancelled"


CHAT_STATUSES = tuple(status.value for status in ChatStatus)
CHAT_SENDERS = tuple(sender.value for sender in ChatSender)
CHAT_CLOSERS = tuple(closer.value for closer in ChatCloser)
CALLBACK_STATUSES = tuple(status.value for status in CallbackStatus)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SupportChat(Base):
    """One conversation: the bot first, then (maybe) the queue, an agent, and its ticket."""

    __tablename__ = "support_chats"
    __table_args__ = (
        CheckConstraint(_in("status", CHAT_STATUSES), name="status_known"),
        CheckConstraint(
            "closed_by IS NULL OR " + _in("closed_by", CHAT_CLOSERS), name="closed_by_known"
        ),
        Index("ix_support_chats_user_id", "user_id", "id"),
        Index("ix_support_chats_status_queued_at", "status", "queued_at", "id"),
        Index("ix_support_chats_agent_id_status", "agent_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str] = mapped_column(String(5))
    # Bot answers in a row that missed (low score or "not helpful"); at the limit: hand over.
    unhelpful_streak: Mapped[int] = mapped_column(Integer, default=0)
    agent_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("staff.id"))
    # The ticket holding the transcript (opened when no agent was online, or at the end).
    ticket_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("support_tickets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(8))


class SupportChatMessage(Base):
    __tablename__ = "support_chat_messages"
    __table_args__ = (
        CheckConstraint(_in("sender", CHAT_SENDERS), name="sender_known"),
        Index("ix_support_chat_messages_chat_id", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(String(32), ForeignKey("support_chats.id"))
    sender: Mapped[str] = mapped_column(String(8))
    sender_id: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # The bot's suggested articles: [{"id", "title", "url", "score"}].
    articles: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupportAgentPresence(Base):
    """One row per connected agent socket; a row not seen for a while counts as gone.

    ``away``: the agent is connected but takes no new chats (the same on all their sockets).
    """

    __tablename__ = "support_agent_presence"
    __table_args__ = (Index("ix_support_agent_presence_last_seen_at", "last_seen_at"),)

    connection_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"))
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    away: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SupportCallback(Base):
    """A customer's request to be called back within a time window."""

    __tablename__ = "support_callbacks"
    __table_args__ = (
        CheckConstraint(_in("status", CALLBACK_STATUSES), name="status_known"),
        CheckConstraint("preferred_to > preferred_from", name="window_ordered"),
        Index("ix_support_callbacks_user_id", "user_id", "id"),
        Index("ix_support_callbacks_status_preferred_from", "status", "preferred_from"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    topic: Mapped[str] = mapped_column(String(200))
    preferred_from: Mapped[datetime] = mapped_column(UTCDateTime())
    preferred_to: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(500))
    handled_by: Mapped[str | None] = mapped_column(String(32), ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
