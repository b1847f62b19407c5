"""Chat queries. Never commits: the service's unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.models.support_chat import SupportAgentPresence, SupportChat, SupportChatMessage


async def locked_chat(session: AsyncSession, chat_id: str) -> SupportChat | None:
    """The chat row, locked for this transaction (PostgreSQL ``FOR UPDATE``)."""
    statement = (
        select(SupportChat)
        .where(SupportChat.id == chat_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def open_chat_of(session: AsyncSession, user_id: str) -> SupportChat | None:
    """The customer's newest chat that has not ended."""
    statement = (
        select(SupportChat)
        .where(SupportChat.user_id == user_id, SupportChat.status != "closed")
        .order_by(SupportChat.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def chats_of(session: AsyncSession, user_id: str, *, limit: int) -> Sequence[SupportChat]:
    statement = (
        select(SupportChat)
        .where(SupportChat.user_id == user_id)
        .order_by(SupportChat.id.desc())
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def queue_position(session: AsyncSession, chat: SupportChat) -> int | None:
    """1 for the next chat an agent will see; None when the chat is not waiting."""
    if chat.status != "queued" or chat.queued_at is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(SupportChat)
        .where(
            SupportChat.status == "queued",
            or_(
                SupportChat.queued_at < chat.queued_at,
                and_(SupportChat.queued_at == chat.queued_at, SupportChat.id < chat.id),
            ),
        )
    )
    return int(ahead or 0) + 1


async def waiting_chats(session: AsyncSession, *, limit: int) -> Sequence[SupportChat]:
    statement = (
        select(SupportChat)
        .where(SupportChat.status == "queued")
        .order_by(SupportChat.queued_at, SupportChat.id)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def chats_of_agent(
    session: AsyncSession, staff_id: str, *, also: Sequence[str] = ()
) -> Sequence[SupportChat]:
    """The agent's active chats, plus the chats ``also`` (to notice those that ended)."""
    condition = and_(SupportChat.agent_id == staff_id, SupportChat.status == "active")
    if also:
        condition = or_(condition, SupportChat.id.in_(list(also)))
    statement = select(SupportChat).where(condition).order_by(SupportChat.id)
    return (await session.execute(statement)).scalars().all()


async def messages(
    session: AsyncSession, chat_ids: Sequence[str], *, after_id: int = 0
) -> Sequence[SupportChatMessage]:
    if not chat_ids:
        return []
    statement = (
        select(SupportChatMessage)
        .where(SupportChatMessage.chat_id.in_(list(chat_ids)), SupportChatMessage.id > after_id)
        .order_by(SupportChatMessage.id)
    )
    return (await session.execute(statement)).scalars().all()


async def last_customer_message(session: AsyncSession, chat_id: str) -> str | None:
    statement = (
        select(SupportChatMessage.body)
        .where(SupportChatMessage.chat_id == chat_id, SupportChatMessage.sender == "customer")
        .order_by(SupportChatMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def agents_online(session: AsyncSession, *, now: datetime, ttl: timedelta) -> bool:
    statement = select(SupportAgentPresence.connection_id).where(
        SupportAgentPresence.last_seen_at >= now - ttl
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def touch_presence(session: AsyncSession, connection_id: str, *, now: datetime) -> int:
    result = await session.execute(
        update(SupportAgentPresence)
        .where(SupportAgentPresence.connection_id == connection_id)
        .values(last_seen_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def remove_presence(session: AsyncSession, connection_id: str) -> None:
    await session.execute(
        delete(SupportAgentPresence).where(SupportAgentPresence.connection_id == connection_id)
    )
