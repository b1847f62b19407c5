"""SQL of the staff feature: staff rows, their sessions, users' freeze state, the audit log.

Functions take the unit of work's connection and never commit. Rows that a use case reads
and then changes are read ``FOR UPDATE`` (PostgreSQL; SQLite's write units already hold
the database lock from ``BEGIN IMMEDIATE``), so two concurrent sign-ins cannot both spend
one TOTP code or both miss a failure count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import audit_events, staff, staff_sessions, users


async def staff_by_email(
    conn: AsyncConnection, email: str, *, for_update: bool = False
) -> Row[Any] | None:
    statement = select(staff).where(staff.c.email == email)
    if for_update:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first()


async def staff_by_id(
    conn: AsyncConnection, staff_id: str, *, for_update: bool = False
) -> Row[Any] | None:
    statement = select(staff).where(staff.c.id == staff_id)
    if for_update:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first()


async def list_staff(conn: AsyncConnection) -> list[Row[Any]]:
    return list((await conn.execute(select(staff).order_by(staff.c.created_at))).all())


async def insert_staff(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(staff).values(**values))


async def update_staff(conn: AsyncConnection, staff_id: str, **values: Any) -> None:
    await conn.execute(update(staff).where(staff.c.id == staff_id).values(**values))


async def insert_session(
    conn: AsyncConnection, *, session_id: str, staff_id: str, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        insert(staff_sessions).values(
            id=session_id, staff_id=staff_id, created_at=now, expires_at=expires_at
        )
    )


async def session_with_staff(conn: AsyncConnection, session_id: str) -> Any:
    """The session and what its staff member may do, in one round trip per request."""
    statement = (
        select(
            staff_sessions.c.staff_id,
            staff_sessions.c.expires_at,
            staff_sessions.c.revoked_at,
            staff.c.role,
            staff.c.status,
            staff.c.must_change_password,
        )
        .join(staff, staff.c.id == staff_sessions.c.staff_id)
        .where(staff_sessions.c.id == session_id)
    )
    return (await conn.execute(statement)).first()


async def revoke_session(conn: AsyncConnection, session_id: str, now: datetime) -> None:
    await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.id == session_id, staff_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_sessions_of(
    conn: AsyncConnection, staff_id: str, now: datetime, *, keep: str | None = None
) -> int:
    """Revoke every live session of a staff member (but ``keep``); returns how many."""
    statement = (
        update(staff_sessions)
        .where(staff_sessions.c.staff_id == staff_id, staff_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if keep is not None:
        statement = statement.where(staff_sessions.c.id != keep)
    return (await conn.execute(statement)).rowcount


async def user_for_update(conn: AsyncConnection, user_id: str) -> Any:
    statement = (
        select(
            users.c.id,
            users.c.status,
            users.c.frozen_at,
            users.c.frozen_by,
            users.c.frozen_reason,
        )
        .where(users.c.id == user_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE (kit/db/locking.py)
    )
    return (await conn.execute(statement)).first()


async def update_user(conn: AsyncConnection, user_id: str, **values: Any) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(**values))


async def audit_events_page(
    conn: AsyncConnection,
    *,
    action: str | None,
    subject_id: str | None,
    before_id: int | None,
    limit: int,
) -> list[Row[Any]]:
    """Newest first; one row more than ``limit`` tells the caller a next page exists."""
    statement = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit + 1)
    if action is not None:
        statement = statement.where(audit_events.c.action == action)
    if subject_id is not None:
        statement = statement.where(audit_events.c.subject_id == subject_id)
    if before_id is not None:
        statement = statement.where(audit_events.c.id < before_id)
    return list((await conn.execute(statement)).all())
