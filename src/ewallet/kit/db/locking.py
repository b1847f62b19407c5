"""Row locks, always taken in one fixed order (ascending primary key) through this helper.

PostgreSQL: ``SELECT ... ORDER BY id FOR UPDATE`` locks rows in id order, so two
transactions touching the same accounts queue instead of deadlocking. SQLite: the write
transaction already holds the database's single writer lock (``BEGIN IMMEDIATE``), so the
same query just reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession


def locked_select(table: Table, ids: Iterable[Any], *, lock: bool = True) -> Select[Any]:
    """A select of ``table`` rows by id, ordered by id, locked FOR UPDATE when ``lock``."""
    ordered = sorted(set(ids))
    statement = select(table).where(table.c.id.in_(ordered)).order_by(table.c.id)
    return statement.with_for_update() if lock else statement


async def lock_rows(session: AsyncSession, table: Table, ids: Iterable[Any]) -> Sequence[Any]:
    """Lock and return the rows of ``table`` with these ids, in ascending id order."""
    result = await session.execute(locked_select(table, ids))
    rows: Sequence[Any] = result.all()
    return rows
