"""SQL of the merchant people: their rows and their portal sessions.

Functions take the unit of work's connection and never commit. Rows a use case reads and
then changes are read ``FOR UPDATE`` (PostgreSQL; SQLite's write units hold the database
lock already), so two sign-ins cannot both spend one TOTP code or both miss a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.merchants.people.views import MerchantUserView
from ewallet.models.tables import merchant_user_sessions as sessions
from ewallet.models.tables import merchant_users as users
from ewallet.models.tables import merchants


@dataclass(frozen=True, slots=True)
class MerchantUserRow:
    """A merchant user with credentials: for these use cases only, never shown."""

    id: str
    merchant_id: str
    email: str
    name: str
    role: str
    password_hash: str
    must_change_password: bool
    totp_secret_encrypted: str | None
    totp_enrolled_at: datetime | None
    totp_last_step: int | None
    status: str
    failures: int
    locked_until: datetime | None
    created_by: str
    created_at: datetime
    last_sign_in_at: datetime | None

    def view(self) -> MerchantUserView:
        return MerchantUserView(
            id=self.id,
            merchant_id=self.merchant_id,
            email=self.email,
            name=self.name,
            role=self.role,
            status=self.status,
            must_change_password=self.must_change_password,
            totp_enrolled=self.totp_enrolled_at is not None,
            created_at=self.created_at,
            last_sign_in_at=self.last_sign_in_at,
        )


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """A portal session with its user and merchant (one read per request)."""

    user_id: str
    merchant_id: str
    merchant_name: str
    merchant_status: str
    expires_at: datetime
    revoked_at: datetime | None
    role: str
    status: str
    name: str
    email: str
    must_change_password: bool
    totp_enrolled_at: datetime | None


def _row(row: Any) -> MerchantUserRow:
    values = dict(row._mapping)
    values["must_change_password"] = bool(values["must_change_password"])
    values["failures"] = int(values["failures"])
    return MerchantUserRow(**values)


async def _one(conn: AsyncConnection, statement: Select[Any], lock: bool) -> MerchantUserRow | None:
    row = (await conn.execute(statement.with_for_update() if lock else statement)).first()
    return None if row is None else _row(row)


async def user_by_email(
    conn: AsyncConnection, email: str, *, for_update: bool = False
) -> MerchantUserRow | None:
    return await _one(conn, select(users).where(users.c.email == email), for_update)


async def user_by_id(
    conn: AsyncConnection, user_id: str, *, for_update: bool = False
) -> MerchantUserRow | None:
    return await _one(conn, select(users).where(users.c.id == user_id), for_update)


async def users_of(conn: AsyncConnection, merchant_id: str) -> list[MerchantUserRow]:
    rows = await conn.execute(
        select(users)
        .where(users.c.merchant_id == merchant_id)
        .order_by(users.c.created_at, users.c.id)
    )
    return [_row(row) for row in rows]


async def merchant_name(conn: AsyncConnection, merchant_id: str) -> str | None:
    found = await conn.execute(select(merchants.c.name).where(merchants.c.id == merchant_id))
    return found.scalar_one_or_none()


async def insert_user(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(users).values(**values))


async def update_user(conn: AsyncConnection, user_id: str, **values: Any) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(**values))


async def insert_session(
    conn: AsyncConnection, *, session_id: str, user_id: str, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        insert(sessions).values(
            id=session_id, merchant_user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


async def revoke_session(conn: AsyncConnection, session_id: str, now: datetime) -> None:
    await conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_sessions_of(conn: AsyncConnection, user_id: str, now: datetime) -> None:
    await conn.execute(
        update(sessions)
        .where(sessions.c.merchant_user_id == user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def session_grant(conn: AsyncConnection, session_id: str) -> SessionGrant | None:
    statement = (
        select(
            users.c.id.label("user_id"),
            users.c.merchant_id,
            merchants.c.name.label("merchant_name"),
            merchants.c.status.label("merchant_status"),
            sessions.c.expires_at,
            sessions.c.revoked_at,
            users.c.role,
            users.c.status,
            users.c.name,
            users.c.email,
            users.c.must_change_password,
            users.c.totp_enrolled_at,
        )
        .select_from(
            sessions.join(users, users.c.id == sessions.c.merchant_user_id).join(
                merchants, merchants.c.id == users.c.merchant_id
            )
        )
        .where(sessions.c.id == session_id)
    )
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values["must_change_password"] = bool(values["must_change_password"])
    return SessionGrant(**values)


async def merchant_status(conn: AsyncConnection, merchant_id: str) -> str | None:
    found = await conn.execute(select(merchants.c.status).where(merchants.c.id == merchant_id))
    return found.scalar_one_or_none()
