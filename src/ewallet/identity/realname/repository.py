"""Queries of real-name verification (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import users


async def serialize_id_number(conn: AsyncConnection, number_digest: str) -> None:
    """Let only one verification of a given ID number run at a time.

    The partial unique index on ``users.id_number_digest`` is the guarantee; this lock
    makes the loser of a race see the winner and answer ``id_number_in_use`` instead of
    failing on the index. PostgreSQL: a transaction-scoped advisory lock on the digest;
    SQLite: the write lock already serializes every write unit.
    """
    if conn.dialect.name == "postgresql":
        key = int(number_digest[:15], 16)  # 60 bits: fits a signed bigint
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def id_number_taken(conn: AsyncConnection, *, number_digest: str, user_id: str) -> bool:
    """Whether another account verified with the ID number of this digest."""
    taken = await conn.scalar(
        select(func.count())
        .select_from(users)
        .where(users.c.id_number_digest == number_digest, users.c.id != user_id)
    )
    return bool(taken)
