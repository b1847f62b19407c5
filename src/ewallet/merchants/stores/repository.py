"""SQL of merchant stores. Nothing here commits (the service's unit does)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.merchants.stores.views import StoreView
from ewallet.models.static_qr import StoreStatus
from ewallet.models.tables import merchant_stores

# A merchant lists all its stores at once; a chain larger than this pages in a later round.
MAX_STORES = 500


async def insert_store(
    conn: AsyncConnection,
    *,
    store_id: str,
    merchant_id: str,
    name: str,
    address: str | None,
    now: datetime,
) -> StoreView:
    values = {
        "id": store_id,
        "merchant_id": merchant_id,
        "name": name,
        "address": address,
        "status": StoreStatus.ACTIVE.value,
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(insert(merchant_stores).values(**values))
    return StoreView(store_id, merchant_id, name, address, StoreStatus.ACTIVE, now)


async def store_of(conn: AsyncConnection, *, merchant_id: str, store_id: str) -> StoreView | None:
    """The merchant's store; another merchant's is None, as a missing one."""
    row = (
        await conn.execute(
            select(merchant_stores).where(
                merchant_stores.c.id == store_id, merchant_stores.c.merchant_id == merchant_id
            )
        )
    ).first()
    return None if row is None else StoreView.of(row)


async def stores_of(conn: AsyncConnection, merchant_id: str) -> list[StoreView]:
    """The merchant's stores, oldest first."""
    rows = await conn.execute(
        select(merchant_stores)
        .where(merchant_stores.c.merchant_id == merchant_id)
        .order_by(merchant_stores.c.created_at, merchant_stores.c.id)
        .limit(MAX_STORES)
    )
    return [StoreView.of(row) for row in rows]
