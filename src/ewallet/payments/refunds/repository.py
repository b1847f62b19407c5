"""SQL of refunds: the payment row they lock and add to, and the refund rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.db.locking import for_no_key_update
from ewallet.kit.money import Money
from ewallet.models.payments import OrderStatus
from ewallet.models.tables import orders, payments, refunds
from ewallet.payments.views import RefundView


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """What refunding reads of an order's payment row (amounts in minor units)."""

    id: str
    user_id: str
    amount: int
    refunded_amount: int
    currency: str

    @classmethod
    def of(cls, row: Row[Any]) -> PaymentRecord:
        return cls(row.id, row.user_id, row.amount, row.refunded_amount, row.currency)


async def payment_of_order(
    conn: AsyncConnection, order_id: str, *, locked: bool = False
) -> PaymentRecord | None:
    """The order's payment; ``locked``: ``FOR NO KEY UPDATE`` (SQLite: the write lock is
    held), so refunds of one payment take turns on it."""
    statement = select(payments).where(payments.c.order_id == order_id)
    if locked:
        statement = for_no_key_update(statement)
    row = (await conn.execute(statement)).first()
    return None if row is None else PaymentRecord.of(row)


async def refund_by_number(
    conn: AsyncConnection, *, merchant_id: str, out_refund_no: str
) -> RefundView | None:
    statement = select(refunds).where(
        refunds.c.merchant_id == merchant_id, refunds.c.out_refund_no == out_refund_no
    )
    row = (await conn.execute(statement)).first()
    return None if row is None else RefundView.of(row)


async def add_refund(
    conn: AsyncConnection,
    *,
    refund_id: str,
    payment: PaymentRecord,
    order_id: str,
    merchant_id: str,
    out_refund_no: str,
    amount: Money,
    ledger_transaction_id: str,
    now: datetime,
) -> None:
    """Add ``amount`` to the payment's refunded total (the order becomes ``refunded`` when
    that reaches the amount paid) and write the refund row."""
    refunded = payment.refunded_amount + amount.minor
    await conn.execute(
        update(payments)
        .where(payments.c.id == payment.id)
        .values(refunded_amount=refunded, updated_at=now)
    )
    if refunded == payment.amount:
        await conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(status=OrderStatus.REFUNDED, updated_at=now)
        )
    await conn.execute(
        insert(refunds).values(
            id=refund_id,
            payment_id=payment.id,
            order_id=order_id,
            merchant_id=merchant_id,
            out_refund_no=out_refund_no,
            amount=amount.minor,
            currency=amount.currency,
            ledger_transaction_id=ledger_transaction_id,
            created_at=now,
        )
    )
