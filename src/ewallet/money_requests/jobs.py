"""The ``money_requests.expire`` outbox handler: a request's expiry, stored and told.

Each request queues one event, due at its ``expires_at``, in the unit that makes it. On
delivery an open request past its time becomes ``expired`` and its requester is told; one
paid, declined or cancelled meanwhile is left alone. Delivered early (a worker whose clock
runs ahead of the database's), the handler raises and the relay tries again later.
Delivering the same event twice changes nothing the second time.
"""

from __future__ import annotations

from ewallet.models.money_requests import MoneyRequestStatus
from ewallet.money_requests.service import EXPIRY_TOPIC, expire_money_request
from ewallet.services import Services
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry


class MoneyRequestNotDueError(RuntimeError):
    """The request is still open and not yet due: the relay tries again later."""


def register(registry: HandlerRegistry, services: Services) -> None:
    async def expire(event: DeliveredEvent) -> None:
        request_id = event.payload.get("money_request_id")
        if not isinstance(request_id, str):
            raise TypeError(f"{EXPIRY_TOPIC} event {event.id} lacks money_request_id")
        if await expire_money_request(services, request_id) == MoneyRequestStatus.OPEN:
            raise MoneyRequestNotDueError(f"money request {request_id} is not due yet")

    registry.register(EXPIRY_TOPIC, expire)
