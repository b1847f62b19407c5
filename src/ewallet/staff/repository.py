"""SQL of the staff feature: staff rows, their sessions, authenticator resets and the
audit log.

Functions take the unit of work's connection and never commit. Rows that a use case reads
and then changes are read ``FOR UPDATE`` (PostgreSQL; SQLite's write units already hold
the database lock from ``BEGIN IMMEDIATE``), so two concurrent sign-ins cannot both spend
one TOTP code or both miss a failure count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.db.locking import locked_select
from ewallet.models import tables
from ewallet.models.operations import StaffRole, StaffStatus, TotpResetStatus
from ewallet.models.tables import audit_events, staff, staff_sessions
from ewallet.staff.views import AuditEntry, AuditFilter, StaffView, TotpResetView

# Declared with the other handles in models.tables once that module lists it.
totp_resets = tables.staff_totp_resets


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
    email: str = ""
    display_name: str | None = None


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


# Built once: every console page and staff API call reads its session.
_SESSION_GRANT: Final = (
    select(
        staff_sessions.c.staff_id,
        staff_sessions.c.expires_at,
        staff_sessions.c.revoked_at,
        staff.c.role,
        staff.c.status,
        staff.c.must_change_password,
        staff.c.email,
        staff.c.display_name,
    )
    .join(staff, staff.c.id == staff_sessions.c.staff_id)
    .where(staff_sessions.c.id == bindparam("session_id"))
)


async def session_grant(conn: AsyncConnection, session_id: str) -> SessionGrant | None:
    """The session and what its staff member may do, in one round trip per request."""
    row = (await conn.execute(_SESSION_GRANT, {"session_id": session_id})).first()
    if row is None:
        return None
    return SessionGrant(
        staff_id=row.staff_id,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        role=row.role,
        status=row.status,
        must_change_password=bool(row.must_change_password),
        email=row.email,
        display_name=row.display_name,
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


_AUDIT_COLUMNS = (
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
    audit_events.c.prev_hash,
    audit_events.c.hash,
)


def _matching(statement: Select[Any], flt: AuditFilter) -> Select[Any]:
    columns = audit_events.c
    exact = (
        (columns.actor_type, flt.actor_type),
        (columns.actor_id, flt.actor_id),
        (columns.action, flt.action),
        (columns.subject_type, flt.subject_type),
        (columns.subject_id, flt.subject_id),
    )
    for column, value in exact:
        if value is not None:
            statement = statement.where(column == value)
    if flt.action_prefix is not None:
        statement = statement.where(columns.action.startswith(flt.action_prefix, autoescape=True))
    if flt.since is not None:
        statement = statement.where(columns.occurred_at >= flt.since)
    if flt.until is not None:
        statement = statement.where(columns.occurred_at < flt.until)
    return statement


async def audit_events_page(
    conn: AsyncConnection, *, flt: AuditFilter, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Newest first; one row more than ``limit`` tells the caller a next page exists."""
    statement = _matching(select(*_AUDIT_COLUMNS), flt)
    if before_id is not None:
        statement = statement.where(audit_events.c.id < before_id)
    statement = statement.order_by(audit_events.c.id.desc()).limit(limit + 1)
    return [AuditEntry(**row._mapping) for row in await conn.execute(statement)]


async def audit_event(conn: AsyncConnection, event_id: int) -> AuditEntry | None:
    row = (await conn.execute(select(*_AUDIT_COLUMNS).where(audit_events.c.id == event_id))).first()
    return None if row is None else AuditEntry(**row._mapping)


async def audit_neighbours(conn: AsyncConnection, event_id: int) -> tuple[Any, int | None]:
    """The event before ``event_id`` (id and hash, or None) and the id of the one after."""
    before = (
        await conn.execute(
            select(audit_events.c.id, audit_events.c.hash)
            .where(audit_events.c.id < event_id)
            .order_by(audit_events.c.id.desc())
            .limit(1)
        )
    ).first()
    after = (
        await conn.execute(select(func.min(audit_events.c.id)).where(audit_events.c.id > event_id))
    ).scalar()
    return before, None if after is None else int(after)


# -- roles and the admins left ------------------------------------------------------------


async def lock_staff(conn: AsyncConnection, staff_ids: set[str]) -> dict[str, StaffRow]:
    """Lock these staff rows in id order (``FOR NO KEY UPDATE``: sessions and resets keep
    pointing at them meanwhile) and return them by id; a missing id is simply absent."""
    rows = await conn.execute(locked_select(staff, staff_ids))
    return {row.id: _staff_row(row) for row in rows}


async def count_active_admins(conn: AsyncConnection, *, besides: str) -> int:
    statement = select(func.count()).where(
        staff.c.role == StaffRole.ADMIN,
        staff.c.status == StaffStatus.ACTIVE,
        staff.c.id != besides,
    )
    return int((await conn.execute(statement)).scalar_one())


# -- authenticator resets -----------------------------------------------------------------

_requester = staff.alias("requester")
_decider = staff.alias("decider")
_RESET_COLUMNS = (
    *totp_resets.c,
    staff.c.email.label("staff_email"),
    _requester.c.email.label("requested_by_email"),
    _decider.c.email.label("decided_by_email"),
)


def _resets() -> Select[Any]:
    joined = (
        totp_resets.join(staff, staff.c.id == totp_resets.c.staff_id)
        .join(_requester, _requester.c.id == totp_resets.c.requested_by)
        .outerjoin(_decider, _decider.c.id == totp_resets.c.decided_by)
    )
    return select(*_RESET_COLUMNS).select_from(joined)


def _reset_view(row: Any, now: datetime) -> TotpResetView:
    state = row.status
    if state == TotpResetStatus.PENDING and row.expires_at <= now:
        state = "expired"
    return TotpResetView(
        id=row.id,
        staff_id=row.staff_id,
        staff_email=row.staff_email,
        requested_by=row.requested_by,
        requested_by_email=row.requested_by_email,
        reason=row.reason,
        state=state,
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_by=row.decided_by,
        decided_by_email=row.decided_by_email,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
    )


async def insert_totp_reset(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(totp_resets).values(**values))


async def totp_reset(
    conn: AsyncConnection, reset_id: str, *, now: datetime, for_update: bool = False
) -> TotpResetView | None:
    statement = _resets().where(totp_resets.c.id == reset_id)
    if for_update:
        # Only the reset row is locked (the staff rows are locked by id, in order).
        statement = statement.with_for_update(of=totp_resets, key_share=True)
    row = (await conn.execute(statement)).first()
    return None if row is None else _reset_view(row, now)


async def open_totp_reset_of(
    conn: AsyncConnection, staff_id: str, *, now: datetime
) -> TotpResetView | None:
    """The pending, unexpired reset of ``staff_id`` (at most one: requests are made with
    the staff row locked)."""
    statement = _resets().where(
        totp_resets.c.staff_id == staff_id,
        totp_resets.c.status == TotpResetStatus.PENDING,
        totp_resets.c.expires_at > now,
    )
    row = (await conn.execute(statement.limit(1))).first()
    return None if row is None else _reset_view(row, now)


async def totp_resets_page(
    conn: AsyncConnection, *, now: datetime, open_only: bool, before_id: str | None, limit: int
) -> list[TotpResetView]:
    """Newest first, one more than ``limit``; ``open_only``: pending and unexpired."""
    statement = _resets()
    if open_only:
        statement = statement.where(
            totp_resets.c.status == TotpResetStatus.PENDING, totp_resets.c.expires_at > now
        )
    if before_id is not None:
        statement = statement.where(totp_resets.c.id < before_id)
    statement = statement.order_by(totp_resets.c.id.desc()).limit(limit + 1)
    return [_reset_view(row, now) for row in await conn.execute(statement)]


async def decide_totp_reset(conn: AsyncConnection, reset_id: str, **values: Any) -> None:
    await conn.execute(update(totp_resets).where(totp_resets.c.id == reset_id).values(**values))
