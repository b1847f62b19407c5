"""SQL of the password-free setting (``password_free_settings``: no row means off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.money import Money
from ewallet.models.tables import password_free_settings as settings_table


@dataclass(frozen=True, slots=True)
class Setting:
    enabled: bool
    per_payment_cap: Money


async def setting(conn: AsyncConnection, user_id: str) -> Setting | None:
    """The user's setting (``None``: never turned on)."""
    statement = select(settings_table).where(settings_table.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return Setting(bool(row.enabled), Money(row.per_payment_cap, row.currency))


async def insert_setting(
    conn: AsyncConnection, *, user_id: str, per_payment_cap: Money, now: datetime
) -> None:
    await conn.execute(
        insert(settings_table).values(
            user_id=user_id,
            currency=per_payment_cap.currency,
            created_at=now,
            enabled=True,
            per_payment_cap=per_payment_cap.minor,
            updated_at=now,
        )
    )


async def turn_on(
    conn: AsyncConnection, *, user_id: str, per_payment_cap: Money, now: datetime
) -> None:
    await conn.execute(
        update(settings_table)
        .where(settings_table.c.user_id == user_id)
        .values(enabled=True, per_payment_cap=per_payment_cap.minor, updated_at=now)
    )


async def turn_off(conn: AsyncConnection, *, user_id: str, now: datetime) -> None:
    await conn.execute(
        update(settings_table)
        .where(settings_table.c.user_id == user_id)
        .values(enabled=False, updated_at=now)
    )
