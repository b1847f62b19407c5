"""All SQL of receive codes (``money_receive_codes``): one row per owner. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.models.tables import money_receive_codes, users


@dataclass(frozen=True, slots=True)
class StoredCode:
    user_id: str
    owner_phone: str  # E.164: what the paying transfer is addressed to
    token: str
    fixed_amount: Money | None
    note: str | None
    updated_at: datetime


def _stored(row: Row[Any]) -> StoredCode:
    fixed = None if row.fixed_amount is None else Money(row.fixed_amount, row.currency)
    return StoredCode(row.user_id, row.phone, row.token, fixed, row.note, as_utc(row.updated_at))


def _select() -> Any:
    return select(money_receive_codes, users.c.phone).join(
        users, users.c.id == money_receive_codes.c.user_id
    )


async def code_of(conn: AsyncConnection, user_id: str) -> StoredCode | None:
    row = (await conn.execute(_select().where(money_receive_codes.c.user_id == user_id))).first()
    return None if row is None else _stored(row)


async def code_by_token(conn: AsyncConnection, token: str) -> StoredCode | None:
    row = (await conn.execute(_select().where(money_receive_codes.c.token == token))).first()
    return None if row is None else _stored(row)


async def insert_code(
    conn: AsyncConnection, *, user_id: str, token: str, currency: str, now: datetime
) -> None:
    """The owner's first code; a second insert for the same owner breaks the primary key."""
    await conn.execute(
        insert(money_receive_codes).values(
            user_id=user_id,
            token=token,
            fixed_amount=None,
            currency=currency,
            note=None,
            created_at=now,
            updated_at=now,
        )
    )


async def update_code(conn: AsyncConnection, user_id: str, now: datetime, **values: Any) -> None:
    """Change the owner's code (its terms, or its token on a reset)."""
    await conn.execute(
        update(money_receive_codes)
        .where(money_receive_codes.c.user_id == user_id)
        .values(updated_at=now, **values)
    )
