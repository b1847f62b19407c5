"""All SQL of the look-ups: money records by primary key (or an order by its merchant's
number), what surrounds an order, and the customers and merchants they name.

Every query is a primary-key or indexed look-up except an ``out_trade_no`` without its
merchant, which reads ``orders`` through (a look-up staff make one at a time; capped).
Functions take the caller's connection and only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import (
    bill_payments,
    billers,
    cards,
    counter_deposits,
    ledger_holds,
    ledger_transactions,
    merchants,
    orders,
    payment_code_charges,
    payments,
    refunds,
    topups,
    transfers,
    users,
    webhook_deliveries,
    withdrawals,
)

# The tables a money record of each kind lives in, found by primary key.
TABLES: dict[str, Table] = {
    "order": orders,
    "payment": payments,
    "refund": refunds,
    "payment_code_charge": payment_code_charges,
    "transfer": transfers,
    "topup": topups,
    "withdrawal": withdrawals,
    "bill_payment": bill_payments,
    "counter_deposit": counter_deposits,
}


async def record(conn: AsyncConnection, kind: str, record_id: str) -> Row[Any] | None:
    """The row of ``kind`` with id ``record_id``."""
    table = TABLES[kind]
    return (await conn.execute(select(table).where(table.c.id == record_id))).first()


async def ledger_metadata(conn: AsyncConnection, entry_id: str) -> dict[str, Any] | None:
    """The metadata of a ledger transaction or hold (the ids the history shows), which
    name the business record behind it."""
    for table in (ledger_transactions, ledger_holds):
        found = await conn.scalar(select(table.c.metadata).where(table.c.id == entry_id))
        if found is not None:
            return dict(found)
    return None


async def orders_by_out_trade_no(
    conn: AsyncConnection, out_trade_no: str, *, merchant_id: str | None, limit: int
) -> list[Row[Any]]:
    """Orders with the merchant's number ``out_trade_no`` (one merchant's, by its unique
    index; or every merchant's), newest first."""
    statement = select(orders).where(orders.c.out_trade_no == out_trade_no)
    if merchant_id is not None:
        statement = statement.where(orders.c.merchant_id == merchant_id)
    statement = statement.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit)
    return list(await conn.execute(statement))


async def payment_of_order(conn: AsyncConnection, order_id: str) -> Row[Any] | None:
    return (await conn.execute(select(payments).where(payments.c.order_id == order_id))).first()


async def charge_of_order(conn: AsyncConnection, order_id: str) -> Row[Any] | None:
    statement = select(payment_code_charges).where(payment_code_charges.c.order_id == order_id)
    return (await conn.execute(statement)).first()


async def refunds_of_payment(conn: AsyncConnection, payment_id: str) -> list[Row[Any]]:
    statement = (
        select(refunds)
        .where(refunds.c.payment_id == payment_id)
        .order_by(refunds.c.created_at, refunds.c.id)
    )
    return list(await conn.execute(statement))


async def webhook_attempts(
    conn: AsyncConnection, *, merchant_id: str, order_id: str, limit: int
) -> list[Row[Any]]:
    """The latest attempts to tell the merchant about the order, newest first."""
    statement = (
        select(webhook_deliveries)
        .where(
            webhook_deliveries.c.merchant_id == merchant_id,
            webhook_deliveries.c.order_id == order_id,
        )
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
    )
    return list(await conn.execute(statement))


async def merchant(conn: AsyncConnection, merchant_id: str) -> Row[Any] | None:
    statement = select(
        merchants.c.id,
        merchants.c.name,
        merchants.c.status,
        merchants.c.accepts_wallet,
        merchants.c.webhook_url,
    ).where(merchants.c.id == merchant_id)
    return cast("Row[Any] | None", (await conn.execute(statement)).first())


async def customers(conn: AsyncConnection, user_ids: Sequence[str]) -> dict[str, Row[Any]]:
    """Id, phone and status of each of ``user_ids`` that exists."""
    if not user_ids:
        return {}
    statement = select(users.c.id, users.c.phone, users.c.status).where(
        users.c.id.in_(list(user_ids))
    )
    return {row.id: cast("Row[Any]", row) for row in await conn.execute(statement)}


async def card_label(conn: AsyncConnection, card_id: str | None) -> str | None:
    """``Bank (1234)`` of a card, never more of it."""
    if card_id is None:
        return None
    row = (
        await conn.execute(
            select(cards.c.bank_name, cards.c.last_four).where(cards.c.id == card_id)
        )
    ).first()
    return None if row is None else f"{row.bank_name} ({row.last_four})"


async def biller_names(conn: AsyncConnection, biller_id: str) -> tuple[str, str] | None:
    """A biller's name in Chinese and in English."""
    row = (
        await conn.execute(
            select(billers.c.name_zh, billers.c.name_en).where(billers.c.id == biller_id)
        )
    ).first()
    return None if row is None else (str(row.name_zh), str(row.name_en))
