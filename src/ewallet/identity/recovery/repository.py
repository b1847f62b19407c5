"""Queries of password resets (no commits): the account of a phone, locked, and the audit
events that count wrong identity factors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.models.identity import User
from ewallet.models.tables import audit_events


@dataclass(frozen=True, slots=True)
class Failures:
    count: int
    oldest: datetime | None


async def locked_user_by_phone(session: AsyncSession, phone: str) -> User | None:
    """The account of ``phone`` (E.164), its row locked for the reset's unit."""
    statement = select(User).where(User.phone == phone).with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def recent_failures(
    conn: AsyncConnection, *, action: str, user_id: str, since: datetime
) -> Failures:
    """How many audit events ``action`` the user has after ``since``, and the oldest's time."""
    row = (
        await conn.execute(
            select(func.count(), func.min(audit_events.c.occurred_at)).where(
                audit_events.c.action == action,
                audit_events.c.subject_id == user_id,
                audit_events.c.occurred_at > since,
            )
        )
    ).one()
    return Failures(int(row[0]), row[1])
