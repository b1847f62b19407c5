"""Queries on ``notifications`` (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import notifications


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: str
    kind: str
    params: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    is_security: bool


async def newest_notices(
    conn: AsyncConnection, *, user_id: str, before: tuple[datetime, str] | None, limit: int
) -> list[NoticeRow]:
    """The user's notices newest first, strictly older than ``before`` (created_at, id)."""
    condition = notifications.c.user_id == user_id
    if before is not None:
        at, last_id = before
        older = or_(
            notifications.c.created_at < at,
            and_(notifications.c.created_at == at, notifications.c.id < last_id),
        )
        condition = and_(condition, older)
    rows = await conn.execute(
        select(notifications)
        .where(condition)
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        .limit(limit)
    )
    return [
        NoticeRow(row.id, row.kind, dict(row.params), row.created_at, row.read_at, row.is_security)
        for row in rows
    ]


async def mark_read(
    conn: AsyncConnection, *, user_id: str, notification_id: str, now: datetime
) -> bool:
    """Mark the user's notice read (again: no change); False if it is not theirs."""
    owned = and_(notifications.c.id == notification_id, notifications.c.user_id == user_id)
    found = await conn.scalar(select(func.count()).select_from(notifications).where(owned))
    if not found:
        return False
    await conn.execute(
        update(notifications).where(owned, notifications.c.read_at.is_(None)).values(read_at=now)
    )
    return True


# Built once: the wallet's home counts on every visit.
_unread = (
    select(func.count())
    .select_from(notifications)
    .where(notifications.c.user_id == bindparam("user_id"), notifications.c.read_at.is_(None))
)


async def count_unread(conn: AsyncConnection, *, user_id: str) -> int:
    """How many of the user's notices are not read yet."""
    count = await conn.scalar(_unread, {"user_id": user_id})
    return int(count or 0)


async def mark_all_read(conn: AsyncConnection, *, user_id: str, now: datetime) -> int:
    """Mark every unread notice of the user read; how many were unread."""
    result = await conn.execute(
        update(notifications)
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount or 0)
