"""SQL of the staff feature: staff rows, their sessions and the audit log.

Functions take the unit of work's connection and never commit. Rows that a use case reads
and then changes are read ``FOR UPDATE`` (PostgreSQL; SQLite's write units already hold
the database lock from ``BEGIN IMMEDIATE``), so two concurrent sign-ins cannot both spend
one TOTP code or both miss a failure count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import audit_events, staff, staff_sessions
from ewallet.staff.views import AuditEntry, StaffView


@dataclass(frozen=True, slots=True)
class StaffRow:
    """A staff row with its credentials: for the staff use cases only, never shown."""

    id: str
    email: str
    role: str
    display_name: str | None
    password_hash: str
    must_change_password: bool
    totp_secret_encrypted: str
    totp_last_step: int | None
    status: str
    failures: int
    locked_until: datetime | None
    created_at: datetime
    last_sign_in_at: datetime | None

    def view(self) -> StaffView:
        return StaffView(
            id=self.id,
            email=self.email,
            role=self.role,
            display_name=self.display_name,
            status=self.status,
            must_change_password=self.must_change_password,
            created_at=self.created_at,
            last_sign_in_at=self.last_sign_in_at,
        )


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """A staff session and what its staff member may do (one read per request)."""

    staff_id: str
    expires_at: datetime
    revoked_at: datetime | None
    role: str
    status: str
    must_change_password: bool


def _staff_row(row: Any) -> StaffRow:
    values = dict(row._mapping)
    values["must_change_password"] = bool(values["must_change_password"])
    values["failures"] = int(values["failures"])
    return StaffRow(**values)


async def _one_staff(conn: AsyncConnection, statement: Select[Any]) -> StaffRow | None:
    row = (await conn.execute(statement)).first()
    return None if row is None else _staff_row(row)


async def staff_by_email(
    conn: AsyncConnection, email: str, *, for_update: bool = False
) -> StaffRow | None:
    statement = select(staff).where(staff.c.email == email)
    return await _one_staff(conn, statement.with_for_update() if for_update else statement)


async def staff_by_id(
    conn: AsyncConnection, staff_id: str, *, for_update: bool = False
) -> StaffRow | None:
    statement = select(staff).where(staff.c.id == staff_id)
    return await _one_staff(conn, statement.with_for_update() if for_update else statement)


async def list_staff(conn: AsyncConnection) -> list[StaffRow]:
    rows = await conn.execute(select(staff).order_by(staff.c.created_at))
    return [_staff_row(row) for row in rows]


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


async def session_grant(conn: AsyncConnection, session_id: str) -> SessionGrant | None:
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
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return SessionGrant(
        staff_id=row.staff_id,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        role=row.role,
        status=row.status,
        must_change_password=bool(row.must_change_password),
    )


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


async def audit_events_page(
    conn: AsyncConnection,
    *,
    action: str | None,
    subject_id: str | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEntry]:
    """Newest first; one row more than ``limit`` tells the caller a next page exists."""
    statement = (
        select(
            audit_events.c.id,
            audit_events.c.occurred_at,
            audit_events.c.actor_type,
            audit_events.c.actor_id,
            audit_events.c.action,
            audit_events.c.subject_type,
            audit_events.c.subject_id,
            audit_events.c.ip,
            audit_events.c.request_id,
            audit_events.c.details,
            audit_events.c.hash,
        )
        .order_by(audit_events.c.id.desc())
        .limit(limit + 1)
    )
    if action is not None:
        statement = statement.where(audit_events.c.action == action)
    if subject_id is not None:
        statement = statement.where(audit_events.c.subject_id == subject_id)
    if before_id is not None:
        statement = statement.where(audit_events.c.id < before_id)
    return [AuditEntry(**row._mapping) for row in await conn.execute(statement)]
