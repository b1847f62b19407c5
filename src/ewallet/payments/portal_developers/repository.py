"""SQL of the Developers page: one of the merchant's webhook deliveries, and the queued
event a delivery was an attempt of. (The API keys are the merchants feature's.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import webhook_deliveries as deliveries


@dataclass(frozen=True, slots=True)
class DeliveryFacts:
    id: int
    event_id: str
    order_id: str
    succeeded: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    status: str
    payload: dict[str, Any]


async def delivery_of(
    conn: AsyncConnection, *, merchant_id: str, delivery_id: int
) -> DeliveryFacts | None:
    """The merchant's delivery attempt ``delivery_id`` (None for anyone else's)."""
    row = (
        await conn.execute(
            select(deliveries).where(
                deliveries.c.id == delivery_id, deliveries.c.merchant_id == merchant_id
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return DeliveryFacts(
        id=row.id,
        event_id=row.event_id,
        order_id=row.order_id,
        succeeded=bool(row.succeeded),
        created_at=row.created_at,
    )


async def queued_event(
    conn: AsyncConnection, *, topic: str, event_id: str, merchant_id: str
) -> QueuedEvent | None:
    """The newest outbox event of ``topic`` carrying this webhook event id for this
    merchant (None once purged)."""
    statement = (
        select(OutboxEvent.status, OutboxEvent.payload)
        .where(
            OutboxEvent.topic == topic,
            OutboxEvent.payload["event_id"].as_string() == event_id,
            OutboxEvent.payload["merchant_id"].as_string() == merchant_id,
        )
        .order_by(OutboxEvent.id.desc())
        .limit(1)
    )
    row = (await conn.execute(statement)).one_or_none()
    return None if row is None else QueuedEvent(status=row.status, payload=dict(row.payload))
