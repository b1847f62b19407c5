"""SQL of maintenance windows; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import maintenance_windows as windows


async def insert_window(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(windows).values(**values))


async def window_by_id(conn: AsyncConnection, window_id: str, *, for_update: bool = False) -> Any:
    statement = select(windows).where(windows.c.id == window_id)
    if for_update:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first()


async def not_ended(conn: AsyncConnection, now: datetime) -> list[Any]:
    """Windows in force or to come (not cancelled), earliest first."""
    statement = (
        select(windows)
        .where(windows.c.cancelled_at.is_(None), windows.c.ends_at > now)
        .order_by(windows.c.starts_at, windows.c.id)
    )
    return list((await conn.execute(statement)).all())


async def cancel(conn: AsyncConnection, window_id: str, now: datetime) -> None:
    await conn.execute(update(windows).where(windows.c.id == window_id).values(cancelled_at=now))
