"""SQL of the webhook delivery log (``webhook_deliveries``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import webhook_deliveries as deliveries
from ewallet.payments.webhooks.views import DeliveryView


async def insert_delivery(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    event_id: str,
    event_type: str,
    order_id: str,
    url: str,
    attempt: int,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    now: datetime,
) -> None:
    """Log one attempt; it succeeded when it has no ``error``."""
    await conn.execute(
        insert(deliveries).values(
            merchant_id=merchant_id,
            event_id=event_id,
            event_type=event_type,
            order_id=order_id,
            url=url,
            attempt=attempt,
            succeeded=error is None,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            created_at=now,
        )
    )


async def deliveries_of(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    order_id: str | None,
    before: int | None,
    limit: int,
) -> list[DeliveryView]:
    """Up to ``limit`` of the merchant's attempts (of ``order_id``; older than id
    ``before``), newest first."""
    statement = select(deliveries).where(deliveries.c.merchant_id == merchant_id)
    if order_id is not None:
        statement = statement.where(deliveries.c.order_id == order_id)
    if before is not None:
        statement = statement.where(deliveries.c.id < before)
    statement = statement.order_by(deliveries.c.id.desc()).limit(limit)
    return [
        DeliveryView(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            order_id=row.order_id,
            url=row.url,
            attempt=row.attempt,
            succeeded=bool(row.succeeded),
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
            created_at=row.created_at,
        )
        for row in await conn.execute(statement)
    ]
