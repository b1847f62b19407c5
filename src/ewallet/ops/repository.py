"""SQL of maintenance windows; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import maintenance_windows as windows
from ewallet.ops.views import Window


@dataclass(frozen=True, slots=True)
class WindowRow:
    """A window row, cancelled or not."""

    window: Window
    cancelled_at: datetime | None


def _window(row: Any) -> Window:
    return Window(row.id, row.starts_at, row.ends_at, row.message, row.created_by, row.created_at)


async def insert_window(
    conn: AsyncConnection,
    *,
    window_id: str,
    starts_at: datetime,
    ends_at: datetime,
    message: str | None,
    created_by: str,
    created_at: datetime,
) -> None:
    await conn.execute(
        insert(windows).values(
            id=window_id,
            starts_at=starts_at,
            ends_at=ends_at,
            message=message,
            created_by=created_by,
            created_at=created_at,
        )
    )


async def window_by_id(
    conn: AsyncConnection, window_id: str, *, for_update: bool = False
) -> WindowRow | None:
    statement = select(windows).where(windows.c.id == window_id)
    if for_update:
        statement = statement.with_for_update()
    row = (await conn.execute(statement)).first()
    return None if row is None else WindowRow(_window(row), row.cancelled_at)


async def not_ended(conn: AsyncConnection, now: datetime) -> list[Window]:
    """Windows in force or to come (not cancelled), earliest first."""
    statement = (
        select(windows)
        .where(windows.c.cancelled_at.is_(None), windows.c.ends_at > now)
        .order_by(windows.c.starts_at, windows.c.id)
    )
    return [_window(row) for row in await conn.execute(statement)]


async def cancel(conn: AsyncConnection, window_id: str, now: datetime) -> None:
    await conn.execute(update(windows).where(windows.c.id == window_id).values(cancelled_at=now))
