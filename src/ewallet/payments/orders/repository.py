"""SQL of the order use cases beyond what paying shares (:mod:`ewallet.payments.repository`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.payments import OrderStatus
from ewallet.models.tables import orders


@dataclass(frozen=True, slots=True)
class OrderNumber:
    """A merchant's order found by its ``out_trade_no``: its id and what it asked for."""

    order_id: str
    request_hash: str


async def order_by_out_trade_no(
    conn: AsyncConnection, *, merchant_id: str, out_trade_no: str
) -> OrderNumber | None:
    statement = select(orders.c.id, orders.c.request_hash).where(
        orders.c.merchant_id == merchant_id, orders.c.out_trade_no == out_trade_no
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else OrderNumber(row.id, row.request_hash)


async def close_order(
    conn: AsyncConnection, *, order_id: str, merchant_id: str, now: datetime
) -> bool:
    """Close the merchant's order if it still awaits payment; whether this call closed it.

    The conditional ``UPDATE`` decides a race with a payment: one of them wins the row."""
    closed = await conn.execute(
        update(orders)
        .where(
            orders.c.id == order_id,
            orders.c.merchant_id == merchant_id,
            orders.c.status == OrderStatus.AWAITING_PAYMENT,
        )
        .values(status=OrderStatus.CLOSED, closed_at=now, updated_at=now)
    )
    return bool(closed.rowcount == 1)
