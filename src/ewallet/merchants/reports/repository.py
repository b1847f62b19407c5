"""SQL of the merchant reports: sums over payments and refunds of one merchant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import payments, refunds


async def sums(
    conn: AsyncConnection, merchant_id: str, start: datetime, end: datetime
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """(payments, refunds) made in ``[start, end)``: currency -> (count, total)."""
    paid = await conn.execute(
        select(payments.c.currency, func.count(), func.coalesce(func.sum(payments.c.amount), 0))
        .where(
            payments.c.merchant_id == merchant_id,
            payments.c.created_at >= start,
            payments.c.created_at < end,
        )
        .group_by(payments.c.currency)
    )
    refunded = await conn.execute(
        select(refunds.c.currency, func.count(), func.coalesce(func.sum(refunds.c.amount), 0))
        .where(
            refunds.c.merchant_id == merchant_id,
            refunds.c.created_at >= start,
            refunds.c.created_at < end,
        )
        .group_by(refunds.c.currency)
    )
    return (
        {row[0]: (int(row[1]), int(row[2])) for row in paid},
        {row[0]: (int(row[1]), int(row[2])) for row in refunded},
    )
