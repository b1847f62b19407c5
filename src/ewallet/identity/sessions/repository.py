"""Queries on ``auth_sessions`` and ``refresh_tokens`` (Core, in the caller's transaction,
no commits). A session's refresh tokens are one rotation family."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.ids import new_id
from ewallet.models.identity import SessionEndReason
from ewallet.models.tables import devices, refresh_tokens, sessions


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    user_id: str
    device_id: str | None
    expires_at: datetime
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True, slots=True)
class RefreshTokenRow:
    """A refresh token with its session's state and its device's key."""

    id: int
    used_at: datetime | None
    session: SessionRow
    device_key: str | None


async def add_session(
    conn: AsyncConnection, *, user_id: str, device_id: str, now: datetime, expires_at: datetime
) -> str:
    session_id = new_id("ses")
    await conn.execute(
        insert(sessions).values(
            id=session_id,
            user_id=user_id,
            device_id=device_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            revoked_at=None,
            revoked_reason=None,
        )
    )
    return session_id


# Built once: every API request and every page reads a session, and a statement object
# that is reused skips SQLAlchemy's per-call construction and cache-key work.
_session_by_id = select(
    sessions.c.id,
    sessions.c.user_id,
    sessions.c.device_id,
    sessions.c.expires_at,
    sessions.c.revoked_at,
).where(sessions.c.id == bindparam("session_id"))


async def get_session(conn: AsyncConnection, session_id: str) -> SessionRow | None:
    row = (await conn.execute(_session_by_id, {"session_id": session_id})).first()
    if row is None:
        return None
    return SessionRow(row.id, row.user_id, row.device_id, row.expires_at, row.revoked_at)


async def extend_session(
    conn: AsyncConnection, *, session_id: str, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id)
        .values(last_seen_at=now, expires_at=expires_at)
    )


async def revoke_sessions(
    conn: AsyncConnection,
    *,
    now: datetime,
    reason: SessionEndReason,
    user_id: str | None = None,
    device_id: str | None = None,
    session_id: str | None = None,
    keep_session_id: str | None = None,
) -> list[str]:
    """Revoke the live sessions matching every given filter, and retire their refresh
    tokens; returns the ids revoked."""
    conditions: list[ColumnElement[bool]] = [sessions.c.revoked_at.is_(None)]
    if user_id is not None:
        conditions.append(sessions.c.user_id == user_id)
    if device_id is not None:
        conditions.append(sessions.c.device_id == device_id)
    if session_id is not None:
        conditions.append(sessions.c.id == session_id)
    if keep_session_id is not None:
        conditions.append(sessions.c.id != keep_session_id)
    ids = [row.id for row in (await conn.execute(select(sessions.c.id).where(*conditions)))]
    if not ids:
        return []
    await conn.execute(
        update(sessions)
        .where(sessions.c.id.in_(ids), sessions.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason.value)
    )
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.session_id.in_(ids), refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return ids


async def end_user_sessions(
    conn: AsyncConnection,
    *,
    user_id: str,
    now: datetime,
    reason: SessionEndReason,
    keep_session_id: str,
) -> int:
    """End every live session of the user but ``keep_session_id`` ("": none kept), in one
    statement; their refresh tokens die with them. Returns how many ended."""
    result = await conn.execute(
        update(sessions)
        .where(
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.id != keep_session_id,
        )
        .values(revoked_at=now, revoked_reason=reason.value)
    )
    return int(result.rowcount)


async def add_refresh_token(
    conn: AsyncConnection, *, session_id: str, token_hash: str, now: datetime
) -> None:
    await conn.execute(
        insert(refresh_tokens).values(
            session_id=session_id, token_hash=token_hash, created_at=now, used_at=None
        )
    )


async def find_refresh_token(conn: AsyncConnection, token_hash: str) -> RefreshTokenRow | None:
    """The token with its session's state and device key."""
    statement = (
        select(
            refresh_tokens.c.id,
            refresh_tokens.c.used_at,
            sessions.c.id.label("session_id"),
            sessions.c.user_id,
            sessions.c.device_id,
            sessions.c.revoked_at,
            sessions.c.expires_at,
            devices.c.device_key,
        )
        .join(sessions, sessions.c.id == refresh_tokens.c.session_id)
        .outerjoin(devices, devices.c.id == sessions.c.device_id)
        .where(refresh_tokens.c.token_hash == token_hash)
    )
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    session = SessionRow(row.session_id, row.user_id, row.device_id, row.expires_at, row.revoked_at)
    return RefreshTokenRow(int(row.id), row.used_at, session, row.device_key)


async def use_refresh_token(conn: AsyncConnection, *, token_id: int, now: datetime) -> bool:
    """Mark it used; False if another request used it first."""
    result = await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.id == token_id, refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1
