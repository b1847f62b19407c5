"""Several relays at once deliver every event exactly once (SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.engine import make_engine
from ewallet.models.outbox import OutboxEvent
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from ewallet.worker.relay import OutboxRelay
from tests.worker.helpers import enqueue_committed, fetch_all, make_relay

EVENTS = 300
RELAYS = 4


def _recording_registry(deliveries: list[int]) -> HandlerRegistry:
    registry = HandlerRegistry()

    async def handler(event: DeliveredEvent) -> None:
        deliveries.append(event.id)
        await asyncio.sleep(0)  # let the other relays claim meanwhile

    registry.register("load", handler)
    return registry


async def _assert_exactly_once(
    engine: AsyncEngine, relays: list[OutboxRelay], ids: list[int], deliveries: list[int]
) -> None:
    handled = await asyncio.gather(*(relay.drain() for relay in relays))
    assert sum(handled) == EVENTS
    duplicates = [event_id for event_id, n in Counter(deliveries).items() if n > 1]
    assert duplicates == []
    assert sorted(deliveries) == ids
    rows = await fetch_all(engine)
    assert {(row.status, row.attempts) for row in rows} == {("delivered", 1)}
    # The work really was shared, not done by one relay while the others idled.
    assert len({row.claimed_by for row in rows}) >= 2


async def test_parallel_relays_deliver_each_event_exactly_once(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    deliveries: list[int] = []
    registry = _recording_registry(deliveries)
    ids = await enqueue_committed(engine, clock, "load", [{"n": n} for n in range(EVENTS)])
    relays = [
        make_relay(engine, registry, clock, worker_id=f"relay-{n}", batch_size=7)
        for n in range(RELAYS)
    ]
    await _assert_exactly_once(engine, relays, ids, deliveries)


async def test_relays_on_separate_engines_deliver_each_event_exactly_once(
    engine: AsyncEngine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("separate engines matter for PostgreSQL's SKIP LOCKED; SQLite has one writer")
    clock = FrozenClock()
    deliveries: list[int] = []
    registry = _recording_registry(deliveries)
    ids = await enqueue_committed(engine, clock, "load", [{"n": n} for n in range(EVENTS)])
    engines = [make_engine(database_url, pool_size=2) for _ in range(RELAYS)]
    try:
        relays = [
            make_relay(own, registry, clock, worker_id=f"engine-{n}", batch_size=7)
            for n, own in enumerate(engines)
        ]
        await _assert_exactly_once(engine, relays, ids, deliveries)
    finally:
        for own in engines:
            await own.dispose()


async def test_claim_skips_rows_locked_by_another_claimer(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes claimers with BEGIN IMMEDIATE instead")
    clock = FrozenClock()
    registry = HandlerRegistry()
    ids = await enqueue_committed(engine, clock, "load", [{} for _ in range(10)])
    relay = make_relay(engine, registry, clock, batch_size=10)
    async with engine.connect() as locker:
        await locker.execute(
            select(OutboxEvent.id).where(OutboxEvent.id.in_(ids[:5])).with_for_update()
        )
        # Not blocked by the other transaction's locks: it takes the free rows at once.
        claims = await asyncio.wait_for(relay.claim(), timeout=5)
        assert [claim.event.id for claim in claims] == ids[5:]
        await locker.rollback()
    clock.advance(relay.lease)
    claims = await relay.claim()
    assert [claim.event.id for claim in claims] == ids
