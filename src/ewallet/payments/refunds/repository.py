"""SQL of refunds: the payment row they lock and add to, and the refund rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.db.locking import for_no_key_update
from ewallet.kit.money import Money
from ewallet.models.payments import OrderStatus, RefundStatus
from ewallet.models.tables import orders, payments, refunds
from ewallet.payments.views import RefundFilter, RefundView


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """What refunding reads of an order's payment row (amounts in minor units)."""

    id: str
    user_id: str
    amount: int
    refunded_amount: int
    currency: str
    fee: int
    fee_returned: int

    @classmethod
    def of(cls, row: Row[Any]) -> PaymentRecord:
        return cls(
            row.id,
            row.user_id,
            row.amount,
            row.refunded_amount,
            row.currency,
            row.fee,
            row.fee_returned,
        )


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
    fee_returned: int,
    ledger_transaction_id: str,
    now: datetime,
) -> None:
    """Add ``amount`` to the payment's refunded total (the order becomes ``refunded`` when
    that reaches the amount paid) and ``fee_returned`` to its fee returned, and write the
    refund row."""
    refunded = payment.refunded_amount + amount.minor
    await conn.execute(
        update(payments)
        .where(payments.c.id == payment.id)
        .values(
            refunded_amount=refunded,
            fee_returned=payment.fee_returned + fee_returned,
            updated_at=now,
        )
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
            fee_returned=fee_returned,
            created_at=now,
        )
    )


async def list_refunds(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    wanted: RefundFilter,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RefundView]:
    """Up to ``limit`` of the merchant's refunds newest first (``created_at``, then ``id``),
    from after the position ``after``; served by ``ix_refunds_merchant_id_created_at_id``.
    Every refund is ``succeeded`` (they post at once): another status keeps none."""
    statement = select(refunds).where(refunds.c.merchant_id == merchant_id)
    if wanted.status is not None and wanted.status != RefundStatus.SUCCEEDED:
        return []
    if wanted.order_id is not None:
        statement = statement.where(refunds.c.order_id == wanted.order_id)
    if wanted.out_refund_no is not None:
        statement = statement.where(refunds.c.out_refund_no == wanted.out_refund_no)
    if wanted.created_from is not None:
        statement = statement.where(refunds.c.created_at >= wanted.created_from)
    if wanted.created_to is not None:
        statement = statement.where(refunds.c.created_at < wanted.created_to)
    if after is not None:
        created_at, refund_id = after
        statement = statement.where(
            or_(
                refunds.c.created_at < created_at,
                and_(refunds.c.created_at == created_at, refunds.c.id < refund_id),
            )
        )
    statement = statement.order_by(refunds.c.created_at.desc(), refunds.c.id.desc()).limit(limit)
    return [RefundView.of(row) for row in await conn.execute(statement)]
