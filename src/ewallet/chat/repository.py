"""SQL of chats and their lines. Never commits: the service's unit of work does."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.models.support_chat import ChatSender, ChatStatus, SupportChat, SupportChatMessage


async def locked_chat(session: AsyncSession, chat_id: str) -> SupportChat | None:
    """The chat row, locked for this transaction (PostgreSQL ``FOR UPDATE``)."""
    statement = (
        select(SupportChat)
        .where(SupportChat.id == chat_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def chat(session: AsyncSession, chat_id: str) -> SupportChat | None:
    return await session.get(SupportChat, chat_id)


async def add_chat(session: AsyncSession, chat: SupportChat) -> None:
    session.add(chat)
    await session.flush()


async def add_line(session: AsyncSession, line: SupportChatMessage) -> None:
    """Add one line (flushed, so it has its id and ordering at once)."""
    session.add(line)
    await session.flush()


async def open_chat_of(session: AsyncSession, user_id: str) -> SupportChat | None:
    """The customer's newest chat that has not ended."""
    statement = (
        select(SupportChat)
        .where(SupportChat.user_id == user_id, SupportChat.status != ChatStatus.CLOSED)
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
    if chat.status != ChatStatus.QUEUED or chat.queued_at is None:
        return None
    ahead = await session.scalar(
        select(func.count())
        .select_from(SupportChat)
        .where(
            SupportChat.status == ChatStatus.QUEUED,
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
        .where(SupportChat.status == ChatStatus.QUEUED)
        .order_by(SupportChat.queued_at, SupportChat.id)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def chats_of_agent(
    session: AsyncSession, staff_id: str, *, also: Sequence[str] = ()
) -> Sequence[SupportChat]:
    """The agent's active chats, plus the chats ``also`` (to notice those that ended)."""
    condition = and_(SupportChat.agent_id == staff_id, SupportChat.status == ChatStatus.ACTIVE)
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
        .where(
            SupportChatMessage.chat_id == chat_id, SupportChatMessage.sender == ChatSender.CUSTOMER
        )
        .order_by(SupportChatMessage.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
