"""Which async handlers receive the events of each outbox topic.

Features do not register at import time on a global: each handler module exposes a
``register(registry: HandlerRegistry, services: Services) -> None`` and the composition root
(``ewallet.bootstrap.outbox.outbox_registry``) calls them, so a test builds exactly the
registry it needs and the worker's wiring is written in one place.

Delivery is at least once: a handler may see the same event again after a crash, a lease
that ran out or a later handler of the same topic failing. Handlers must therefore be
idempotent, keyed by ``event.id`` (e.g. the SMS provider's request id).

The registry also says which events must leave one after another: the relay delivers a
batch's events concurrently, except that events with the same :meth:`HandlerRegistry.ordering_key`
go in id order, each after the previous one finished. A topic names the payload fields of
its key with :meth:`HandlerRegistry.order_by` (an order's webhooks by its order id); a
topic that names none keeps all its events in one line, the safe default.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
        self._ordering: dict[str, tuple[str, ...]] = {}

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

    def order_by(self, topic: str, *fields: str) -> None:
        """Deliver ``topic``'s events one after another only when their payloads agree on
        ``fields`` (e.g. ``"order_id"``); events that differ may be delivered concurrently."""
        check_topic(topic)
        if not fields:
            raise ValueError("order_by needs at least one payload field")
        self._ordering[topic] = fields

    def ordering_key(self, event: DeliveredEvent) -> Hashable:
        """The line ``event`` waits in: the topic and its ``order_by`` fields' values.

        A topic without ``order_by``, or a payload lacking one of the fields (its handler
        will likely refuse it), falls back to the whole topic as one line.
        """
        fields = self._ordering.get(event.topic)
        if fields is None or any(field not in event.payload for field in fields):
            return (event.topic,)
        return (event.topic, *(_hashable(event.payload[field]) for field in fields))

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def __contains__(self, topic: object) -> bool:
        return topic in self._handlers


def _hashable(value: Any) -> Hashable:
    """A payload value as part of a key: JSON scalars as they are, anything else by its
    text (a list or object in a payload is unusual for a key, but must not crash)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def handler_name(handler: Handler) -> str:
    """A readable name for logs and ``last_error``."""
    # Functions carry a qualname; a callable object is named by its class.
    return str(getattr(handler, "__qualname__", None) or type(handler).__qualname__)
