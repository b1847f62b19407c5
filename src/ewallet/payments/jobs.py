"""The payments feature's outbox handler: ``merchant.webhook`` delivers merchant webhooks.

The composition root (:mod:`ewallet.bootstrap`) calls :func:`register` with the process's
services; the handler uses them (their engine, clock, secrets and settings) and builds
nothing of its own.
"""

from __future__ import annotations

from ewallet.payments.webhooks.destinations import Resolver, system_resolver
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC, deliver
from ewallet.services import Services
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry


def register(
    registry: HandlerRegistry, services: Services, *, resolve: Resolver = system_resolver
) -> None:
    """Add the ``merchant.webhook`` handler: one delivery attempt per event it is handed,
    raising (so the relay retries) unless the merchant answered 2xx. ``resolve`` answers
    for the merchants' DNS (tests script it)."""

    async def send(event: DeliveredEvent) -> None:
        await deliver(services, event.payload, attempt=event.attempts, resolve=resolve)

    registry.register(WEBHOOK_TOPIC, send)
