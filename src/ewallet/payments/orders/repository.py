"""SQL of the order use cases beyond what paying shares (:mod:`ewallet.payments.repository`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.payments import OrderStatus
from ewallet.models.tables import merchants, orders, payments
from ewallet.payments.orders.views import OrderFilter
from ewallet.payments.views import OrderView


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


def _filtered(statement: Select[Any], wanted: OrderFilter, now: datetime) -> Select[Any]:
    if wanted.status == OrderStatus.EXPIRED:
        statement = statement.where(
            orders.c.status == OrderStatus.AWAITING_PAYMENT, orders.c.expires_at <= now
        )
    elif wanted.status == OrderStatus.AWAITING_PAYMENT:
        statement = statement.where(
            orders.c.status == OrderStatus.AWAITING_PAYMENT, orders.c.expires_at > now
        )
    elif wanted.status is not None:
        statement = statement.where(orders.c.status == wanted.status)
    if wanted.out_trade_no is not None:
        statement = statement.where(orders.c.out_trade_no == wanted.out_trade_no)
    if wanted.created_from is not None:
        statement = statement.where(orders.c.created_at >= wanted.created_from)
    if wanted.created_to is not None:
        statement = statement.where(orders.c.created_at < wanted.created_to)
    if wanted.amount_min is not None:
        statement = statement.where(orders.c.amount >= wanted.amount_min)
    if wanted.amount_max is not None:
        statement = statement.where(orders.c.amount <= wanted.amount_max)
    return statement


async def list_orders(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    wanted: OrderFilter,
    after: tuple[datetime, str] | None,
    limit: int,
    now: datetime,
) -> list[OrderView]:
    """Up to ``limit`` of the merchant's orders newest first (``created_at``, then ``id``),
    from after the position ``after``; served by ``ix_orders_merchant_id_created_at_id``."""
    statement = (
        select(
            orders,
            merchants.c.name.label("merchant_name"),
            payments.c.refunded_amount.label("refunded_amount"),
            payments.c.fee.label("payment_fee"),
            payments.c.fee_returned.label("payment_fee_returned"),
        )
        .select_from(
            orders.join(merchants, merchants.c.id == orders.c.merchant_id).outerjoin(
                payments, payments.c.order_id == orders.c.id
            )
        )
        .where(orders.c.merchant_id == merchant_id)
    )
    statement = _filtered(statement, wanted, now)
    if after is not None:
        created_at, order_id = after
        statement = statement.where(
            or_(
                orders.c.created_at < created_at,
                and_(orders.c.created_at == created_at, orders.c.id < order_id),
            )
        )
    statement = statement.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit)
    return [
        OrderView.of(
            row,
            merchant_name=row.merchant_name,
            now=now,
            refunded_minor=row.refunded_amount or 0,
            fee_minor=(row.payment_fee or 0) - (row.payment_fee_returned or 0),
        )
        for row in await conn.execute(statement)
    ]
