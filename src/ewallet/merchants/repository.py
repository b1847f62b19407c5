"""All SQL of the merchant use cases; nothing here commits (the service's unit does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.merchants.views import MerchantView
from ewallet.models.merchants import MerchantStatus
from ewallet.models.tables import merchants


@dataclass(frozen=True, slots=True)
class MerchantKey:
    """What authenticating an API key reads: the merchant, its status, the key's digest."""

    merchant_id: str
    status: str
    api_key_digest: str


@dataclass(frozen=True, slots=True)
class MerchantRecord:
    """The merchant's row: its view plus the sealed webhook secret."""

    view: MerchantView
    webhook_secret_encrypted: str


async def merchant_record(conn: AsyncConnection, merchant_id: str) -> MerchantRecord | None:
    row = (await conn.execute(select(merchants).where(merchants.c.id == merchant_id))).first()
    if row is None:
        return None
    return MerchantRecord(MerchantView.of(row), row.webhook_secret_encrypted)


async def key_of(conn: AsyncConnection, key_id: str) -> MerchantKey | None:
    statement = select(merchants.c.id, merchants.c.status, merchants.c.api_key_digest).where(
        merchants.c.api_key_id == key_id
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else MerchantKey(row.id, row.status, row.api_key_digest)


async def insert_merchant(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(merchants).values(**values))


async def update_merchant(
    conn: AsyncConnection, merchant_id: str, *, updated_at: datetime, **values: Any
) -> None:
    await conn.execute(
        update(merchants)
        .where(merchants.c.id == merchant_id)
        .values(**values, updated_at=updated_at)
    )


async def list_merchants(
    conn: AsyncConnection,
    *,
    search: str | None,
    status: MerchantStatus | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[MerchantView]:
    """Up to ``limit`` merchants newest first, from after the position ``(created_at, id)``.

    ``search`` is a merchant id (exactly) or a part of the name (any case, ``%`` and ``_``
    taken literally); ``status`` keeps one status only.
    """
    query = select(merchants)
    if search:
        query = query.where(
            or_(
                merchants.c.id == search,
                func.lower(merchants.c.name).contains(search.lower(), autoescape=True),
            )
        )
    if status is not None:
        query = query.where(merchants.c.status == status)
    if after is not None:
        created_at, merchant_id = after
        query = query.where(
            or_(
                merchants.c.created_at < created_at,
                and_(merchants.c.created_at == created_at, merchants.c.id < merchant_id),
            )
        )
    query = query.order_by(merchants.c.created_at.desc(), merchants.c.id.desc()).limit(limit)
    return [MerchantView.of(row) for row in await conn.execute(query)]
