"""What the agent's customer view reads that no other feature's views offer: the customer
row, their recent tickets and chats (ORM rows; never commits)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.agent_context.views import TicketBrief
from ewallet.models.identity import User
from ewallet.models.support import SupportTicket
from ewallet.models.support_chat import SupportChat


async def customer(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def recent_tickets(session: AsyncSession, user_id: str, *, limit: int) -> list[TicketBrief]:
    """The customer's newest tickets first."""
    rows = await session.execute(
        select(SupportTicket)
        .where(SupportTicket.user_id == user_id)
        .order_by(SupportTicket.created_at.desc(), SupportTicket.id.desc())
        .limit(limit)
    )
    return [
        TicketBrief(t.id, t.reference, t.subject, t.channel, t.category, t.status, t.created_at)
        for t in rows.scalars()
    ]


async def recent_chats(session: AsyncSession, user_id: str, *, limit: int) -> list[SupportChat]:
    """The customer's newest chats first."""
    rows = await session.execute(
        select(SupportChat)
        .where(SupportChat.user_id == user_id)
        .order_by(SupportChat.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())
