"""Queries of orders, payments and refunds; nothing here commits (the service's unit does)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.db.locking import for_no_key_update
from ewallet.models.tables import merchants, orders, payments, refunds

__all__ = ["merchants", "orders", "payments", "refunds"]
from ewallet.payments.views import OrderView, PaymentView, RefundView


async def order_view(
    conn: AsyncConnection, order_id: str, *, now: datetime, merchant_id: str | None = None
) -> OrderView | None:
    """The order with its merchant's name and refunded total; with ``merchant_id``, only
    if it belongs to that merchant (another merchant's order is simply not found)."""
    statement = (
        select(
            orders,
            merchants.c.name.label("merchant_name"),
            payments.c.refunded_amount.label("refunded_amount"),
        )
        .select_from(
            orders.join(merchants, merchants.c.id == orders.c.merchant_id).outerjoin(
                payments, payments.c.order_id == orders.c.id
            )
        )
        .where(orders.c.id == order_id)
    )
    if merchant_id is not None:
        statement = statement.where(orders.c.merchant_id == merchant_id)
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return OrderView.of(
        row, merchant_name=row.merchant_name, now=now, refunded_minor=row.refunded_amount or 0
    )


async def order_by_out_trade_no(
    conn: AsyncConnection, *, merchant_id: str, out_trade_no: str
) -> Any:
    statement = select(orders).where(
        orders.c.merchant_id == merchant_id, orders.c.out_trade_no == out_trade_no
    )
    return (await conn.execute(statement)).first()


async def merchant_and_order_number(
    conn: AsyncConnection, *, merchant_id: str, out_trade_no: str
) -> Any:
    """The merchant's row plus ``order_id`` and ``order_request_hash`` of its order with
    ``out_trade_no`` (both None when it has none), in one statement: the charge path reads
    both first and is CPU-bound on statements. None when there is no such merchant."""
    order = and_(orders.c.merchant_id == merchants.c.id, orders.c.out_trade_no == out_trade_no)
    statement = (
        select(
            merchants,
            orders.c.id.label("order_id"),
            orders.c.request_hash.label("order_request_hash"),
        )
        .select_from(merchants.outerjoin(orders, order))
        .where(merchants.c.id == merchant_id)
    )
    return (await conn.execute(statement)).first()


async def merchant_row(conn: AsyncConnection, merchant_id: str) -> Any:
    return (await conn.execute(select(merchants).where(merchants.c.id == merchant_id))).first()


async def payment_view(
    conn: AsyncConnection, payment_id: str, *, user_id: str | None = None
) -> PaymentView | None:
    statement = (
        select(
            payments,
            merchants.c.name.label("merchant_name"),
            orders.c.subject.label("subject"),
        )
        .select_from(
            payments.join(merchants, merchants.c.id == payments.c.merchant_id).join(
                orders, orders.c.id == payments.c.order_id
            )
        )
        .where(payments.c.id == payment_id)
    )
    if user_id is not None:
        statement = statement.where(payments.c.user_id == user_id)
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return PaymentView.of(row, merchant_name=row.merchant_name, subject=row.subject)


async def locked_payment_of_order(conn: AsyncConnection, order_id: str) -> Any:
    """The order's payment row, locked (``FOR NO KEY UPDATE``; SQLite: the write lock is held)."""
    statement = for_no_key_update(select(payments).where(payments.c.order_id == order_id))
    return (await conn.execute(statement)).first()


async def refund_by_number(conn: AsyncConnection, *, merchant_id: str, out_refund_no: str) -> Any:
    statement = select(refunds).where(
        refunds.c.merchant_id == merchant_id, refunds.c.out_refund_no == out_refund_no
    )
    return (await conn.execute(statement)).first()


def refund_view(row: Any) -> RefundView:
    return RefundView.of(row)
