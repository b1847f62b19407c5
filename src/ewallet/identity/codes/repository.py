"""Queries on ``verification_codes`` (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.identity import CodePurpose
from ewallet.models.tables import verification_codes as codes


@dataclass(frozen=True, slots=True)
class LiveCode:
    """The newest code of a phone and purpose that was neither used nor killed."""

    id: int
    code_hash: str
    expires_at: datetime


def _live(phone: str, purpose: CodePurpose) -> tuple[ColumnElement[bool], ...]:
    return (
        codes.c.phone == phone,
        codes.c.purpose == purpose.value,
        codes.c.consumed_at.is_(None),
        codes.c.invalidated_at.is_(None),
    )


async def invalidate_live_codes(
    conn: AsyncConnection, *, phone: str, purpose: CodePurpose, now: datetime
) -> None:
    """Earlier live codes of ``phone`` and ``purpose`` stop working."""
    await conn.execute(update(codes).where(*_live(phone, purpose)).values(invalidated_at=now))


async def add_code(
    conn: AsyncConnection,
    *,
    phone: str,
    purpose: CodePurpose,
    code_hash: str,
    now: datetime,
    expires_at: datetime,
    client_ip: str | None,
) -> None:
    await conn.execute(
        insert(codes).values(
            phone=phone,
            purpose=purpose.value,
            code_hash=code_hash,
            attempts=0,
            created_at=now,
            expires_at=expires_at,
            consumed_at=None,
            invalidated_at=None,
            client_ip=client_ip,
        )
    )


async def newest_live_code(
    conn: AsyncConnection, *, phone: str, purpose: CodePurpose
) -> LiveCode | None:
    statement = (
        select(codes.c.id, codes.c.code_hash, codes.c.expires_at)
        .where(*_live(phone, purpose))
        .order_by(codes.c.id.desc())
        .limit(1)
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else LiveCode(int(row.id), row.code_hash, row.expires_at)


async def use_code(conn: AsyncConnection, *, code_id: int, now: datetime) -> bool:
    """Mark the code used; False if a concurrent request used (or killed) it first."""
    used = await conn.execute(
        update(codes)
        .where(
            codes.c.id == code_id, codes.c.consumed_at.is_(None), codes.c.invalidated_at.is_(None)
        )
        .values(consumed_at=now)
    )
    return used.rowcount == 1


async def count_wrong_entry(
    conn: AsyncConnection, *, code_id: int, max_attempts: int, now: datetime
) -> int:
    """One more wrong entry; the code dies at ``max_attempts``. Returns the attempts so far."""
    attempts = (
        int(
            (await conn.execute(select(codes.c.attempts).where(codes.c.id == code_id))).scalar_one()
        )
        + 1
    )
    killed = attempts >= max_attempts
    await conn.execute(
        update(codes)
        .where(codes.c.id == code_id)
        .values(attempts=attempts, invalidated_at=now if killed else None)
    )
    return attempts
