"""Which async handlers receive the events of each outbox topic.

Features do not register at import time on a global: each exposes a
``register(registry: HandlerRegistry) -> None`` and :func:`default_registry` composes them,
so a test builds exactly the registry it needs and the worker's wiring is written in one
place.

Delivery is at least once: a handler may see the same event again after a crash, a lease
that ran out or a later handler of the same topic failing. Handlers must therefore be
idempotent, keyed by ``event.id`` (e.g. the SMS provider's request id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import Clock
from ewallet.worker.outbox import check_topic


@dataclass(frozen=True, slots=True)
class DeliveredEvent:
    """One outbox event as a handler sees it; ``attempts`` counts this delivery (1 = first)."""

    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


Handler = Callable[[DeliveredEvent], Awaitable[None]]


class HandlerRegistry:
    """Topic → handlers, called in registration order; the first failure stops the rest."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def register(self, topic: str, handler: Handler) -> None:
        """Add ``handler`` for ``topic``; registering the same handler twice is a mistake."""
        check_topic(topic)
        handlers = self._handlers.setdefault(topic, [])
        if handler in handlers:
            raise ValueError(f"{handler_name(handler)} is already registered for topic {topic!r}")
        handlers.append(handler)

    def handler(self, topic: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`; returns the function unchanged."""

        def decorate(function: Handler) -> Handler:
            self.register(topic, function)
            return function

        return decorate

    def handlers_for(self, topic: str) -> tuple[Handler, ...]:
        """The handlers of ``topic``; empty when nobody listens (the relay marks it dead)."""
        return tuple(self._handlers.get(topic, ()))

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def __contains__(self, topic: object) -> bool:
        return topic in self._handlers


def handler_name(handler: Handler) -> str:
    """A readable name for logs and ``last_error``."""
    # Functions carry a qualname; a callable object is named by its class.
    return str(getattr(handler, "__qualname__", None) or type(handler).__qualname__)


def default_registry(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
) -> HandlerRegistry:
    """The handlers the ``ewallet worker`` process (and the embedded relay) runs.

    Each feature adds one line here, e.g.::

        from ewallet.notify.tasks import register as register_notify
        register_notify(registry)

    ``settings`` default to the environment's (``EWALLET_*``); ``engine`` and ``clock`` let
    an embedding app lend its own. Adapters are chosen and validated here, so a refused
    configuration stops the worker at start-up.

    Until a topic has a handler its events go ``dead`` (with a clear ``last_error``) rather
    than looping forever; ``ewallet.worker.outbox.requeue_dead`` revives them once the
    handler is deployed.
    """
    # Imported here: the handlers import this module for DeliveredEvent and HandlerRegistry.
    from ewallet.bills.delivery import register as register_bills  # noqa: PLC0415
    from ewallet.integrations.sms.handler import register as register_sms  # noqa: PLC0415
    from ewallet.payments.webhooks import register as register_webhooks  # noqa: PLC0415
    from ewallet.support.mail_transport import register as register_email  # noqa: PLC0415

    settings = settings or Settings()
    registry = HandlerRegistry()
    register_sms(registry, settings=settings, engine=engine, clock=clock)
    register_webhooks(registry, settings=settings, engine=engine, clock=clock)
    register_email(registry, settings=settings, engine=engine, clock=clock)
    register_bills(registry, settings=settings, engine=engine, clock=clock)
    return registry
