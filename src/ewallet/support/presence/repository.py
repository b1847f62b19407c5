"""SQL of agent presence (one row per connected agent socket); never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.models.operations import Staff, StaffStatus
from ewallet.models.support_chat import SupportAgentPresence


async def add(session: AsyncSession, row: SupportAgentPresence) -> None:
    session.add(row)
    await session.flush()


async def any_available_since(session: AsyncSession, since: datetime) -> bool:
    """Is any connection seen since ``since`` and not away?"""
    statement = select(SupportAgentPresence.connection_id).where(
        SupportAgentPresence.last_seen_at >= since, SupportAgentPresence.away.is_(False)
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def available_since(session: AsyncSession, staff_id: str, since: datetime) -> bool:
    """Is this active staff member connected (seen since ``since``) and not away?"""
    statement = (
        select(SupportAgentPresence.connection_id)
        .join(Staff, Staff.id == SupportAgentPresence.staff_id)
        .where(
            SupportAgentPresence.staff_id == staff_id,
            SupportAgentPresence.last_seen_at >= since,
            SupportAgentPresence.away.is_(False),
            Staff.status == StaffStatus.ACTIVE,
        )
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def away_since(session: AsyncSession, staff_id: str, since: datetime) -> bool:
    """Is this staff member away on a connection seen since ``since``?"""
    statement = select(SupportAgentPresence.connection_id).where(
        SupportAgentPresence.staff_id == staff_id,
        SupportAgentPresence.last_seen_at >= since,
        SupportAgentPresence.away.is_(True),
    )
    return (await session.execute(statement.limit(1))).first() is not None


async def set_away(session: AsyncSession, staff_id: str, *, away: bool) -> int:
    """Away (or back) on every connection of the staff member; the number of rows."""
    result = await session.execute(
        update(SupportAgentPresence)
        .where(SupportAgentPresence.staff_id == staff_id)
        .values(away=away)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def seen_since(
    session: AsyncSession, since: datetime
) -> Sequence[Row[str, str | None, str, bool]]:
    """Each live connection: (staff id, display name, email, away), by staff id."""
    statement = (
        select(
            SupportAgentPresence.staff_id,
            Staff.display_name,
            Staff.email,
            SupportAgentPresence.away,
        )
        .join(Staff, Staff.id == SupportAgentPresence.staff_id)
        .where(SupportAgentPresence.last_seen_at >= since, Staff.status == StaffStatus.ACTIVE)
        .order_by(SupportAgentPresence.staff_id, SupportAgentPresence.connection_id)
    )
    return (await session.execute(statement)).all()


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
