"""Queries on devices, sessions, refresh tokens and step-up challenges (Core, no commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.ids import new_id
from ewallet.models.tables import devices, refresh_tokens, sessions
from ewallet.models.tables import step_up_challenges as challenges

# Devices.


async def find_device(conn: AsyncConnection, *, user_id: str, device_key: str) -> Row[Any] | None:
    statement = select(devices).where(
        devices.c.user_id == user_id, devices.c.device_key == device_key
    )
    return (await conn.execute(statement)).first()


async def has_devices(conn: AsyncConnection, *, user_id: str) -> bool:
    statement = select(func.count()).select_from(devices).where(devices.c.user_id == user_id)
    return int((await conn.execute(statement)).scalar_one()) > 0


async def add_device(
    conn: AsyncConnection,
    *,
    user_id: str,
    device_key: str,
    label: str | None,
    now: datetime,
    ip: str | None,
    trusted: bool,
) -> str:
    device_id = new_id("dev")
    await conn.execute(
        insert(devices).values(
            id=device_id,
            user_id=user_id,
            device_key=device_key,
            label=label,
            trusted_at=now if trusted else None,
            first_seen_at=now,
            last_seen_at=now,
            last_ip=ip,
            revoked_at=None,
        )
    )
    return device_id


async def trust_device(
    conn: AsyncConnection, *, device_id: str, label: str | None, now: datetime, ip: str | None
) -> None:
    """Trusted from now on (again, if it had been signed out)."""
    values: dict[str, Any] = {"trusted_at": now, "revoked_at": None, "last_seen_at": now}
    values["last_ip"] = ip
    if label:
        values["label"] = label
    await conn.execute(update(devices).where(devices.c.id == device_id).values(**values))


async def touch_device(
    conn: AsyncConnection, *, device_id: str, now: datetime, ip: str | None
) -> None:
    await conn.execute(
        update(devices).where(devices.c.id == device_id).values(last_seen_at=now, last_ip=ip)
    )


async def list_devices(conn: AsyncConnection, *, user_id: str) -> Sequence[Row[Any]]:
    """Devices not signed out, most recently seen first."""
    statement = (
        select(devices)
        .where(devices.c.user_id == user_id, devices.c.revoked_at.is_(None))
        .order_by(devices.c.last_seen_at.desc(), devices.c.id)
    )
    return (await conn.execute(statement)).all()


async def revoke_device(
    conn: AsyncConnection, *, user_id: str, device_id: str, now: datetime
) -> bool:
    """Sign a device out and untrust it; False if it is not this user's live device."""
    result = await conn.execute(
        update(devices)
        .where(
            devices.c.id == device_id,
            devices.c.user_id == user_id,
            devices.c.revoked_at.is_(None),
        )
        .values(revoked_at=now, trusted_at=None)
    )
    return result.rowcount == 1


# Sessions and their refresh tokens (a session's tokens are one rotation family).


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


async def get_session(conn: AsyncConnection, session_id: str) -> Row[Any] | None:
    return (await conn.execute(select(sessions).where(sessions.c.id == session_id))).first()


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
    reason: str,
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
        .values(revoked_at=now, revoked_reason=reason)
    )
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.session_id.in_(ids), refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return ids


async def add_refresh_token(
    conn: AsyncConnection, *, session_id: str, token_hash: str, now: datetime
) -> None:
    await conn.execute(
        insert(refresh_tokens).values(
            session_id=session_id, token_hash=token_hash, created_at=now, used_at=None
        )
    )


async def find_refresh_token(conn: AsyncConnection, token_hash: str) -> Row[Any] | None:
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
    return cast("Row[Any] | None", (await conn.execute(statement)).first())


async def use_refresh_token(conn: AsyncConnection, *, token_id: int, now: datetime) -> bool:
    """Mark it used; False if another request used it first."""
    result = await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.id == token_id, refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


# Step-up challenges.


async def add_challenge(
    conn: AsyncConnection,
    *,
    user_id: str,
    purpose: str,
    methods: list[str],
    context: dict[str, Any],
    now: datetime,
    expires_at: datetime,
) -> str:
    challenge_id = new_id("chl")
    await conn.execute(
        insert(challenges).values(
            id=challenge_id,
            user_id=user_id,
            purpose=purpose,
            methods=methods,
            context=context,
            attempts=0,
            created_at=now,
            expires_at=expires_at,
            completed_at=None,
        )
    )
    return challenge_id


async def get_challenge(
    conn: AsyncConnection, challenge_id: str, *, for_update: bool = False
) -> Row[Any] | None:
    statement = select(challenges).where(challenges.c.id == challenge_id)
    if for_update:
        statement = statement.with_for_update()
    return (await conn.execute(statement)).first()


async def count_challenge_attempt(conn: AsyncConnection, challenge_id: str) -> int:
    """One more wrong proof; returns the attempts so far."""
    result = await conn.execute(
        update(challenges)
        .where(challenges.c.id == challenge_id)
        .values(attempts=challenges.c.attempts + 1)
        .returning(challenges.c.attempts)
    )
    return int(result.scalar_one())


async def complete_challenge(
    conn: AsyncConnection, *, challenge_id: str, now: datetime, redeem_until: datetime
) -> bool:
    """Mark it passed; False if it was already completed (a concurrent proof)."""
    result = await conn.execute(
        update(challenges)
        .where(challenges.c.id == challenge_id, challenges.c.completed_at.is_(None))
        .values(completed_at=now, expires_at=redeem_until)
    )
    return result.rowcount == 1


async def redeem_challenge(
    conn: AsyncConnection, *, challenge_id: str, user_id: str, purpose: str, now: datetime
) -> Row[Any] | None:
    """Use a completed challenge once: its ``expires_at`` drops to now. The row, or None."""
    return (
        await conn.execute(
            update(challenges)
            .where(
                and_(
                    challenges.c.id == challenge_id,
                    challenges.c.user_id == user_id,
                    challenges.c.purpose == purpose,
                    challenges.c.completed_at.is_not(None),
                    challenges.c.expires_at > now,
                )
            )
            .values(expires_at=now)
            .returning(challenges.c.id, challenges.c.context)
        )
    ).first()
