"""SQL of the counter: the payer behind a payment and the day's static-QR payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import orders, payments, users
from ewallet.payments.static_qr.views import STATIC_QR_ORDER_PREFIX


@dataclass(frozen=True, slots=True)
class PaidRow:
    order_id: str
    amount: int
    currency: str
    subject: str
    phone: str
    paid_at: datetime


async def payer_phone(conn: AsyncConnection, *, payment_id: str, merchant_id: str) -> str | None:
    """The phone of whoever made ``payment_id`` to ``merchant_id`` (None: not theirs)."""
    statement = (
        select(users.c.phone)
        .select_from(payments.join(users, users.c.id == payments.c.user_id))
        .where(payments.c.id == payment_id, payments.c.merchant_id == merchant_id)
    )
    found: str | None = (await conn.execute(statement)).scalar()
    return found


async def static_qr_paid(
    conn: AsyncConnection, *, merchant_id: str, since: datetime, limit: int
) -> list[PaidRow]:
    """``merchant_id``'s static-QR orders paid since ``since``, newest first."""
    statement = (
        select(
            orders.c.id,
            orders.c.amount,
            orders.c.currency,
            orders.c.subject,
            orders.c.paid_at,
            users.c.phone,
        )
        .select_from(
            orders.join(payments, payments.c.id == orders.c.payment_id).join(
                users, users.c.id == payments.c.user_id
            )
        )
        .where(
            orders.c.merchant_id == merchant_id,
            orders.c.out_trade_no.startswith(f"{STATIC_QR_ORDER_PREFIX}_", autoescape=True),
            orders.c.paid_at >= since,
        )
        .order_by(orders.c.paid_at.desc(), orders.c.id.desc())
        .limit(limit)
    )
    return [
        PaidRow(row.id, row.amount, row.currency, row.subject, row.phone, row.paid_at)
        for row in await conn.execute(statement)
    ]
