"""What the webhook use cases return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One delivery attempt of one event, as the merchant's delivery log shows it."""

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
