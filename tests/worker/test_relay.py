"""The relay: delivered once, retried with back-off, dead after max attempts, lease safety."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.worker.outbox import enqueue
from ewallet.worker.pool import RelayPool
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from ewallet.worker.relay import OutboxRelay, backoff_delay
from tests.worker.helpers import (
    BASE,
    LEASE,
    Recorder,
    deliveries_metric,
    enqueue_committed,
    fetch,
    fetch_all,
    make_relay,
)


async def test_committed_event_is_delivered_once(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("sms.send", recorder)
    before = deliveries_metric("sms.send", "delivered")
    [event_id] = await enqueue_committed(engine, clock, "sms.send", [{"to": "+8613800000000"}])
    relay = make_relay(engine, registry, clock)

    assert await relay.run_once() == 1
    clock.advance(timedelta(days=1))
    assert await relay.run_once() == 0

    [call] = recorder.calls
    assert (call.id, call.topic, call.payload, call.attempts) == (
        event_id,
        "sms.send",
        {"to": "+8613800000000"},
        1,
    )
    assert call.created_at == clock.now() - timedelta(days=1)
    row = await fetch(engine, event_id)
    assert (row.status, row.attempts, row.claimed_by, row.last_error) == (
        "delivered",
        1,
        "relay-a",
        None,
    )
    assert row.delivered_at == clock.now() - timedelta(days=1)
    assert deliveries_metric("sms.send", "delivered") == before + 1


async def test_batch_is_delivered_in_id_order_to_every_handler(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    first, second = Recorder(), Recorder()
    registry = HandlerRegistry()
    registry.register("t", first)
    registry.handler("t")(second)
    ids = await enqueue_committed(engine, clock, "t", [{"n": n} for n in range(25)])
    relay = make_relay(engine, registry, clock, batch_size=10)
    assert [await relay.run_once() for _ in range(4)] == [10, 10, 5, 0]
    assert first.ids == second.ids == ids
    with pytest.raises(ValueError, match="already registered"):
        registry.register("t", first)


async def test_failing_handler_is_retried_with_backoff_then_delivered(
    engine: AsyncEngine,
) -> None:
    clock = FrozenClock()
    recorder = Recorder(failures=2)
    registry = HandlerRegistry()
    registry.register("email.send", recorder)
    before = deliveries_metric("email.send", "retry")
    [event_id] = await enqueue_committed(engine, clock, "email.send", [{"n": 1}])
    relay = make_relay(engine, registry, clock)

    for attempt in (1, 2):
        failed_at = clock.now()
        assert await relay.run_once() == 1
        row = await fetch(engine, event_id)
        nominal = BASE * 2 ** (attempt - 1)
        assert failed_at + nominal / 2 <= row.available_at <= failed_at + nominal
        assert (row.status, row.attempts, row.claimed_by) == ("pending", attempt, None)
        assert row.last_error == f"Recorder: ConnectionError: provider down (call {attempt})"
        # Not due again before the back-off has passed.
        clock.set(row.available_at - timedelta(microseconds=1))
        assert await relay.run_once() == 0
        clock.set(row.available_at)

    assert await relay.run_once() == 1
    assert [call.attempts for call in recorder.calls] == [1, 2, 3]
    row = await fetch(engine, event_id)
    assert (row.status, row.attempts, row.delivered_at) == ("delivered", 3, clock.now())
    assert deliveries_metric("email.send", "retry") == before + 2


async def test_max_attempts_makes_the_event_dead_for_good(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder(failures=1000)
    registry = HandlerRegistry()
    registry.register("webhook", recorder)
    before = deliveries_metric("webhook", "dead")
    [event_id] = await enqueue_committed(engine, clock, "webhook", [{}])
    relay = make_relay(engine, registry, clock, max_attempts=3)

    for _ in range(10):
        await relay.run_once()
        clock.advance(timedelta(hours=1))

    assert len(recorder.calls) == 3
    row = await fetch(engine, event_id)
    assert (row.status, row.attempts, row.claimed_by) == ("dead", 3, None)
    assert row.last_error == "Recorder: ConnectionError: provider down (call 3)"
    assert deliveries_metric("webhook", "dead") == before + 1


async def test_unknown_topic_is_dead_at_once(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = HandlerRegistry()
    registry.register("known", Recorder())
    [event_id] = await enqueue_committed(engine, clock, "nobody.listens", [{}])
    relay = make_relay(engine, registry, clock)
    assert await relay.run_once() == 1
    clock.advance(timedelta(days=1))
    assert await relay.run_once() == 0
    row = await fetch(engine, event_id)
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error == "no handler registered for topic 'nobody.listens'"


async def test_long_error_is_truncated(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = HandlerRegistry()

    async def loud(event: DeliveredEvent) -> None:
        raise RuntimeError("x" * 5000)

    registry.register("loud", loud)
    [event_id] = await enqueue_committed(engine, clock, "loud", [{}])
    await make_relay(engine, registry, clock).run_once()
    error = (await fetch(engine, event_id)).last_error
    assert error is not None
    assert len(error) == 2000
    assert error.startswith("test_long_error_is_truncated.<locals>.loud: RuntimeError: xxx")


async def test_crashed_workers_claims_are_redelivered_after_the_lease(
    engine: AsyncEngine,
) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("t", recorder)
    ids = await enqueue_committed(engine, clock, "t", [{"n": 1}, {"n": 2}])
    crashed = make_relay(engine, registry, clock, worker_id="crashed")
    survivor = make_relay(engine, registry, clock, worker_id="survivor")

    claims = await crashed.claim()  # ... and the process dies before delivering
    assert [claim.event.id for claim in claims] == ids
    assert await survivor.run_once() == 0  # leased: nobody else may take them yet
    clock.advance(LEASE - timedelta(microseconds=1))
    assert await survivor.run_once() == 0
    clock.advance(timedelta(microseconds=1))
    assert await survivor.run_once() == 2

    assert recorder.ids == ids
    assert [call.attempts for call in recorder.calls] == [2, 2]
    for row in await fetch_all(engine):
        assert (row.status, row.attempts, row.claimed_by) == ("delivered", 2, "survivor")
    # The stale claims come back to life: their leases ran out, so they are not delivered.
    assert await crashed.deliver(claims) == 0
    assert len(recorder.calls) == 2


@pytest.mark.parametrize("late_outcome", ["success", "failure"])
async def test_relay_that_lost_its_lease_cannot_overwrite_the_outcome(
    engine: AsyncEngine, late_outcome: str
) -> None:
    clock = FrozenClock()
    registry = HandlerRegistry()
    slow = make_relay(engine, registry, clock, worker_id="slow")
    fast = make_relay(engine, registry, clock, worker_id="fast")
    calls: list[tuple[int, int]] = []
    before = deliveries_metric("slow.topic", "lost")

    async def handler(event: DeliveredEvent) -> None:
        calls.append((event.id, event.attempts))
        if len(calls) == 1:
            # The slow relay's handler outlives its lease; another relay takes over.
            clock.advance(LEASE + timedelta(seconds=1))
            assert await fast.run_once() == 1
            if late_outcome == "failure":
                raise ConnectionError("too late")

    registry.register("slow.topic", handler)
    [event_id] = await enqueue_committed(engine, clock, "slow.topic", [{}])
    assert await slow.run_once() == 1

    assert calls == [(event_id, 1), (event_id, 2)]
    row = await fetch(engine, event_id)
    assert (row.status, row.attempts, row.claimed_by, row.last_error) == (
        "delivered",
        2,
        "fast",
        None,
    )
    assert deliveries_metric("slow.topic", "lost") == before + 1


async def test_event_that_keeps_crashing_its_worker_goes_dead(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("poison", recorder)
    [event_id] = await enqueue_committed(engine, clock, "poison", [{}])
    relay = make_relay(engine, registry, clock, max_attempts=2)
    for _ in range(2):
        assert len(await relay.claim()) == 1  # delivery crashes the process every time
        clock.advance(LEASE)
    assert await relay.run_once() == 1
    assert recorder.calls == []
    row = await fetch(engine, event_id)
    assert (row.status, row.attempts) == ("dead", 3)
    assert row.last_error is not None
    assert "claimed 3 times (max_attempts 2) without an outcome" in row.last_error


async def test_stop_hands_back_the_rest_of_the_batch(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    stop = asyncio.Event()
    recorder = Recorder()
    registry = HandlerRegistry()

    async def handler(event: DeliveredEvent) -> None:
        await recorder(event)
        stop.set()  # SIGTERM arrives while the first event is in hand

    registry.register("t", handler)
    ids = await enqueue_committed(engine, clock, "t", [{}, {}, {}])
    relay = make_relay(engine, registry, clock)
    assert await relay.deliver(await relay.claim(), stop=stop) == 1
    rows = await fetch_all(engine)
    assert [(r.status, r.attempts, r.claimed_by) for r in rows] == [
        ("delivered", 1, "relay-a"),
        ("pending", 0, None),
        ("pending", 0, None),
    ]
    assert rows[1].available_at == clock.now()
    # Another relay picks the handed-back events up at once, not after the lease.
    other = make_relay(engine, registry, clock, worker_id="relay-b")
    assert await other.run_once() == 2
    assert recorder.ids == ids


async def test_notify_wakes_run_forever_at_once(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    delivered = asyncio.Event()
    registry = HandlerRegistry()

    async def handler(event: DeliveredEvent) -> None:
        delivered.set()

    registry.register("t", handler)
    relay = make_relay(engine, registry, clock)
    stop = asyncio.Event()
    # An hour-long poll: only notify() can explain a prompt delivery.
    task = asyncio.create_task(relay.run_forever(stop, poll_seconds=3600))
    await asyncio.sleep(0.05)
    async with UnitOfWork(engine) as uow:
        await enqueue(uow.session, topic="t", payload={}, clock=clock)
        uow.after_commit(relay.notify)
        await uow.commit()
    await asyncio.wait_for(delivered.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)


async def test_run_forever_survives_a_database_error(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("t", recorder)
    relay = make_relay(engine, registry, clock)
    real_claim = relay.claim
    failures = 0

    async def flaky_claim(*, due_by: object = None) -> object:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise ConnectionResetError("database went away")
        return await real_claim()

    relay.claim = flaky_claim  # type: ignore[method-assign,assignment]
    await enqueue_committed(engine, clock, "t", [{}])
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run_forever(stop, poll_seconds=0.01))
    for _ in range(500):
        if recorder.calls:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert failures == 1
    assert len(recorder.calls) == 1


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    base, cap = timedelta(seconds=2), timedelta(minutes=1)
    for attempt, nominal in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (500, 60)]:
        delays = [backoff_delay(attempt, base=base, cap=cap, rng=rng) for _ in range(50)]
        assert all(
            timedelta(seconds=nominal / 2) <= d <= timedelta(seconds=nominal) for d in delays
        )
        assert len(set(delays)) > 1


def test_relay_refuses_bad_settings(engine: AsyncEngine) -> None:
    registry, clock = HandlerRegistry(), FrozenClock()
    with pytest.raises(ValueError, match="worker_id"):
        make_relay(engine, registry, clock, worker_id="x" * 65)
    with pytest.raises(ValueError, match="at least 1"):
        make_relay(engine, registry, clock, batch_size=0)


async def test_handler_that_outlives_the_lease_is_cut_off_and_retried(
    engine: AsyncEngine,
) -> None:
    clock = FrozenClock()
    registry = HandlerRegistry()

    async def hangs(event: DeliveredEvent) -> None:
        await asyncio.sleep(60)

    registry.register("hangs", hangs)
    [event_id] = await enqueue_committed(engine, clock, "hangs", [{}])
    relay = OutboxRelay(
        engine, registry, clock, worker_id="w", lease=timedelta(seconds=0.2), max_attempts=3
    )
    assert await asyncio.wait_for(relay.run_once(), timeout=10) == 1
    row = await fetch(engine, event_id)
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
    assert row.last_error == (
        "test_handler_that_outlives_the_lease_is_cut_off_and_retried.<locals>.hangs: "
        "timed out after 0.2s (the remaining lease)"
    )


async def test_pool_wakes_every_relay(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("t", recorder)
    relays = [make_relay(engine, registry, clock, worker_id=f"p-{n}") for n in range(3)]
    with pytest.raises(ValueError, match="distinct"):
        RelayPool([*relays, relays[0]])
    pool = RelayPool(relays)
    stop = asyncio.Event()
    task = asyncio.create_task(pool.run_forever(stop, poll_seconds=3600))
    await asyncio.sleep(0.05)
    ids = await enqueue_committed(engine, clock, "t", [{}, {}])
    pool.notify()
    for _ in range(500):
        if len(recorder.calls) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert sorted(recorder.ids) == ids
