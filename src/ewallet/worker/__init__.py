"""The outbox worker: side effects written with the change, delivered after commit.

A service writes ``await enqueue(uow.session, topic=..., payload=..., clock=clock)``; a
feature registers ``async def handler(event: DeliveredEvent) -> None`` on a
:class:`HandlerRegistry`; ``ewallet worker`` runs :class:`OutboxRelay` copies that claim
due events (``SKIP LOCKED`` on PostgreSQL) and deliver them at least once.

A low layer: it imports only the kit and the models. Which handler serves which topic is
the composition root's business (``ewallet.bootstrap.outbox``).
"""

from ewallet.worker.outbox import (
    OutboxPayloadError,
    OutboxTopicError,
    enqueue,
    purge_delivered,
    requeue_dead,
)
from ewallet.worker.pool import RelayPool, default_worker_id
from ewallet.worker.registry import DeliveredEvent, Handler, HandlerRegistry
from ewallet.worker.relay import OutboxRelay

__all__ = [
    "DeliveredEvent",
    "Handler",
    "HandlerRegistry",
    "OutboxPayloadError",
    "OutboxRelay",
    "OutboxTopicError",
    "RelayPool",
    "default_worker_id",
    "enqueue",
    "purge_delivered",
    "requeue_dead",
]
