"""Queries of the authenticator: ``totp_recovery_codes``, the TOTP columns of ``users`` and
the audit events that count wrong codes (Core, in the caller's transaction, no commits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import audit_events, users
from ewallet.models.tables import totp_recovery_codes as recovery_codes


@dataclass(frozen=True, slots=True)
class TotpState:
    secret_encrypted: str | None
    enabled_at: datetime | None
    last_step: int | None


@dataclass(frozen=True, slots=True)
class LastLock:
    """The newest ``totp.locked`` audit event of a user."""

    event_id: int
    occurred_at: datetime


async def locked_totp_state(conn: AsyncConnection, user_id: str) -> TotpState | None:
    """The user's TOTP columns, the row locked ``FOR NO KEY UPDATE`` (kit/db/locking.py)."""
    row = (
        await conn.execute(
            select(users.c.totp_secret_encrypted, users.c.totp_enabled_at, users.c.totp_last_step)
            .where(users.c.id == user_id)
            .with_for_update(key_share=True)
        )
    ).first()
    if row is None:
        return None
    return TotpState(row.totp_secret_encrypted, row.totp_enabled_at, row.totp_last_step)


async def set_last_step(conn: AsyncConnection, *, user_id: str, step: int) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))


async def replace_recovery_codes(
    conn: AsyncConnection, *, user_id: str, code_hashes: Sequence[str], now: datetime
) -> None:
    """The user's recovery codes become exactly these (all unused)."""
    await delete_recovery_codes(conn, user_id=user_id)
    await conn.execute(
        insert(recovery_codes),
        [
            {"user_id": user_id, "code_hash": code_hash, "created_at": now, "used_at": None}
            for code_hash in code_hashes
        ],
    )


async def delete_recovery_codes(conn: AsyncConnection, *, user_id: str) -> None:
    await conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))


async def use_recovery_code(
    conn: AsyncConnection, *, user_id: str, code_hash: str, now: datetime
) -> bool:
    """Mark the unused code of this hash used; False if there is none (or a concurrent
    use won)."""
    spent = await conn.execute(
        update(recovery_codes)
        .where(
            recovery_codes.c.user_id == user_id,
            recovery_codes.c.code_hash == code_hash,
            recovery_codes.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return spent.rowcount == 1


async def last_lock(conn: AsyncConnection, *, user_id: str, action: str) -> LastLock | None:
    row = (
        await conn.execute(
            select(audit_events.c.id, audit_events.c.occurred_at)
            .where(audit_events.c.subject_id == user_id, audit_events.c.action == action)
            .order_by(audit_events.c.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else LastLock(int(row.id), row.occurred_at)


async def count_failures(
    conn: AsyncConnection,
    *,
    user_id: str,
    actions: Sequence[str],
    since: datetime,
    after_event_id: int | None,
) -> int:
    """Audit events ``actions`` of the user after ``since`` (and after ``after_event_id``)."""
    counted = [
        audit_events.c.subject_id == user_id,
        audit_events.c.action.in_(actions),
        audit_events.c.occurred_at > since,
    ]
    if after_event_id is not None:
        counted.append(audit_events.c.id > after_event_id)
    failures = await conn.scalar(select(func.count()).select_from(audit_events).where(*counted))
    return int(failures or 0)


async def count_unused_recovery_codes(conn: AsyncConnection, *, user_id: str) -> int:
    unused = await conn.scalar(
        select(func.count())
        .select_from(recovery_codes)
        .where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
    )
    return int(unused or 0)
