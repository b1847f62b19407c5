"""Shared helpers for the outbox tests: a recording handler and direct row reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ewallet.kit.clock import Clock
from ewallet.kit.db.engine import READ_ONLY_OPTION
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.outbox import OutboxEvent
from ewallet.worker.outbox import enqueue
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from ewallet.worker.relay import DEFAULT_CONCURRENCY, OutboxRelay

LEASE = timedelta(seconds=30)
BASE = timedelta(seconds=2)


class Recorder:
    """A handler that records every call and fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[DeliveredEvent] = []

    async def __call__(self, event: DeliveredEvent) -> None:
        self.calls.append(event)
        if len(self.calls) <= self.failures:
            raise ConnectionError(f"provider down (call {len(self.calls)})")

    @property
    def ids(self) -> list[int]:
        return [event.id for event in self.calls]


def make_relay(
    engine: AsyncEngine,
    registry: HandlerRegistry,
    clock: Clock,
    *,
    worker_id: str = "relay-a",
    batch_size: int = 10,
    max_attempts: int = 5,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> OutboxRelay:
    return OutboxRelay(
        engine,
        registry,
        clock,
        worker_id=worker_id,
        batch_size=batch_size,
        lease=LEASE,
        max_attempts=max_attempts,
        backoff_base=BASE,
        backoff_cap=timedelta(minutes=1),
        concurrency=concurrency,
    )


async def enqueue_committed(
    engine: AsyncEngine, clock: Clock, topic: str, payloads: list[dict[str, Any]]
) -> list[int]:
    """Enqueue ``payloads`` in one committed unit of work; return the event ids."""

    async def work(uow: UnitOfWork) -> list[int]:
        return [
            await enqueue(uow.session, topic=topic, payload=payload, clock=clock)
            for payload in payloads
        ]

    return await run_unit(engine, work)


async def fetch(engine: AsyncEngine, event_id: int) -> OutboxEvent:
    async with AsyncSession(engine.execution_options(**{READ_ONLY_OPTION: True})) as session:
        event = await session.get(OutboxEvent, event_id)
    assert event is not None
    return event


async def fetch_all(engine: AsyncEngine) -> list[OutboxEvent]:
    async with AsyncSession(engine.execution_options(**{READ_ONLY_OPTION: True})) as session:
        return list((await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all())


async def count_events(engine: AsyncEngine) -> int:
    async with AsyncSession(engine.execution_options(**{READ_ONLY_OPTION: True})) as session:
        return int((await session.scalar(select(func.count(OutboxEvent.id)))) or 0)


def deliveries_metric(topic: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "ewallet_outbox_deliveries_total", {"topic": topic, "outcome": outcome}
    )
    return value or 0.0
