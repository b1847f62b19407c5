"""The ``data_copy.build`` outbox handler: build the copy a user asked for.

Queued by :func:`~ewallet.identity.data_copy.service.request_data_copy` in the unit that
writes the request; building is idempotent (a copy already built is left alone), so a
second delivery of the same event does nothing.
"""

from __future__ import annotations

from ewallet.identity.data_copy.service import BUILD_TOPIC, build_data_copy
from ewallet.services import Services
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry


def register(registry: HandlerRegistry, services: Services) -> None:
    """Add the ``data_copy.build`` handler, building with ``services``."""

    async def build(event: DeliveredEvent) -> None:
        copy_id = event.payload.get("data_copy_id")
        if not isinstance(copy_id, str):
            raise TypeError(f"data_copy.build event {event.id} lacks data_copy_id")
        await build_data_copy(services, copy_id=copy_id)

    registry.register(BUILD_TOPIC, build)
