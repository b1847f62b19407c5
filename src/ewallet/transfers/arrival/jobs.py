"""The ``transfers.arrive`` outbox handler: a delayed transfer arrives (or goes back).

Each scheduled transfer queues one event, due at its ``arrives_at``, in the unit that
schedules it (:func:`~ewallet.transfers.arrival.service.schedule_arrival`). Delivery is at
least once; :func:`~ewallet.transfers.arrival.service.arrive_transfer` finishes a transfer
once however often it runs, and leaves one cancelled meanwhile alone. Delivered early (a
worker whose clock runs ahead of the database's), the handler raises and the relay tries
again later.
"""

from __future__ import annotations

from ewallet.models.transfers import TransferStatus
from ewallet.services import Services
from ewallet.transfers.arrival.service import ARRIVAL_TOPIC, arrive_transfer
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry


class TransferNotDueError(RuntimeError):
    """The transfer is still scheduled and not yet due: the relay tries again later."""


def register(registry: HandlerRegistry, services: Services) -> None:
    async def arrive(event: DeliveredEvent) -> None:
        transfer_id = event.payload.get("transfer_id")
        if not isinstance(transfer_id, str):
            raise TypeError(f"{ARRIVAL_TOPIC} event {event.id} lacks transfer_id")
        if await arrive_transfer(services, transfer_id) == TransferStatus.SCHEDULED:
            raise TransferNotDueError(f"transfer {transfer_id} is not due yet")

    registry.register(ARRIVAL_TOPIC, arrive)
