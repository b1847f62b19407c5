"""Responses of ``GET /v1/merchant/webhook-deliveries``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ewallet.payments.webhooks.views import DeliveryView


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    order_id: str
    url: str
    attempt: int
    succeeded: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    created_at: datetime

    @classmethod
    def of(cls, view: DeliveryView) -> DeliveryOut:
        return cls(
            id=view.id,
            event_id=view.event_id,
            event_type=view.event_type,
            order_id=view.order_id,
            url=view.url,
            attempt=view.attempt,
            succeeded=view.succeeded,
            status_code=view.status_code,
            error=view.error,
            duration_ms=view.duration_ms,
            created_at=view.created_at,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
