"""SQL of agent presence (one row per connected agent socket); never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.models.support_chat import SupportAgentPresence


async def add(session: AsyncSession, row: SupportAgentPresence) -> None:
    session.add(row)
    await session.flush()


async def any_seen_since(session: AsyncSession, since: datetime) -> bool:
    statement = select(SupportAgentPresence.connection_id).where(
        SupportAgentPresence.last_seen_at >= since
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def touch(session: AsyncSession, connection_id: str, *, now: datetime) -> int:
    """Mark the connection seen at ``now``; the number of rows touched (0: swept away)."""
    result = await session.execute(
        update(SupportAgentPresence)
        .where(SupportAgentPresence.connection_id == connection_id)
        .values(last_seen_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def remove(session: AsyncSession, connection_id: str) -> None:
    await session.execute(
        delete(SupportAgentPresence).where(SupportAgentPresence.connection_id == connection_id)
    )
