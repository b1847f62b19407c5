"""The relay delivers a batch concurrently: lanes by ordering key, bounded, isolated.

Events of one ordering key (``HandlerRegistry.order_by``) go one after another in id order;
different keys overlap, at most ``concurrency`` at a time; each event's outcome is its own;
a stop hands back what has not started.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from ewallet.worker.relay import OutboxRelay
from tests.worker.helpers import LEASE, enqueue_committed, fetch_all, make_relay

# Long enough for a loaded CI machine, short enough that a sequential relay fails fast.
MEET_SECONDS = 5.0


def lane_relay(
    engine: AsyncEngine,
    registry: HandlerRegistry,
    clock: FrozenClock,
    *,
    concurrency: int = 16,
    worker_id: str = "relay-a",
) -> OutboxRelay:
    return make_relay(
        engine, registry, clock, worker_id=worker_id, batch_size=50, concurrency=concurrency
    )


def keyed(topic: str = "t") -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.order_by(topic, "key")
    return registry


async def test_events_of_different_keys_are_delivered_at_the_same_time(
    engine: AsyncEngine,
) -> None:
    # Each handler waits until the other has started: delivered one after another, the
    # first would wait for the second in vain and time out.
    clock = FrozenClock()
    started = {"a": asyncio.Event(), "b": asyncio.Event()}
    registry = keyed()

    async def meet(event: DeliveredEvent) -> None:
        mine = event.payload["key"]
        started[mine].set()
        other = "b" if mine == "a" else "a"
        await asyncio.wait_for(started[other].wait(), timeout=MEET_SECONDS)

    registry.register("t", meet)
    await enqueue_committed(engine, clock, "t", [{"key": "a"}, {"key": "b"}])

    assert await lane_relay(engine, registry, clock).run_once() == 2
    rows = await fetch_all(engine)
    assert [(row.status, row.attempts, row.last_error) for row in rows] == [
        ("delivered", 1, None),
        ("delivered", 1, None),
    ]


async def test_one_keys_events_go_one_after_another_in_id_order(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = keyed()
    in_flight: dict[str, int] = defaultdict(int)
    overlapped: list[int] = []
    seen: dict[str, list[int]] = defaultdict(list)

    async def slow(event: DeliveredEvent) -> None:
        key = event.payload["key"]
        in_flight[key] += 1
        if in_flight[key] > 1:
            overlapped.append(event.id)
        seen[key].append(event.id)
        for _ in range(3):  # give the other lanes every chance to run in between
            await asyncio.sleep(0)
        in_flight[key] -= 1

    registry.register("t", slow)
    keys = ["a", "b", "a", "c", "b", "a", "a", "c", "b", "a"]
    ids = await enqueue_committed(engine, clock, "t", [{"key": key} for key in keys])

    assert await lane_relay(engine, registry, clock).run_once() == len(keys)
    assert overlapped == []
    for key in "abc":
        assert seen[key] == [i for i, k in zip(ids, keys, strict=True) if k == key]


async def test_at_most_concurrency_events_are_in_flight(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = keyed()
    in_flight = 0
    most = 0

    async def count(event: DeliveredEvent) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    registry.register("t", count)
    await enqueue_committed(engine, clock, "t", [{"key": n} for n in range(12)])

    assert await lane_relay(engine, registry, clock, concurrency=3).run_once() == 12
    assert most == 3  # twelve lanes, three at a time: the bound is reached, never passed
    assert {row.status for row in await fetch_all(engine)} == {"delivered"}


async def test_a_topic_without_order_by_stays_in_one_line(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = HandlerRegistry()
    in_flight = 0
    most = 0
    order: list[int] = []

    async def count(event: DeliveredEvent) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        order.append(event.id)
        await asyncio.sleep(0.005)
        in_flight -= 1

    registry.register("t", count)
    ids = await enqueue_committed(engine, clock, "t", [{"key": n} for n in range(6)])

    assert await lane_relay(engine, registry, clock).run_once() == 6
    assert (most, order) == (1, ids)


def test_ordering_key_is_the_topic_and_the_named_fields() -> None:
    registry = HandlerRegistry()
    registry.order_by("merchant.webhook", "order_id")

    def event(topic: str, payload: dict[str, Any]) -> DeliveredEvent:
        return DeliveredEvent(1, topic, payload, 1, FrozenClock().now())

    paid = registry.ordering_key(event("merchant.webhook", {"order_id": "ord_1", "x": 1}))
    refunded = registry.ordering_key(event("merchant.webhook", {"order_id": "ord_1", "x": 2}))
    other = registry.ordering_key(event("merchant.webhook", {"order_id": "ord_2"}))
    assert paid == refunded != other
    # Missing field or no declaration: the whole topic is one line.
    assert registry.ordering_key(event("merchant.webhook", {})) == ("merchant.webhook",)
    assert registry.ordering_key(event("sms.send", {"to": "+86"})) == ("sms.send",)
    # An odd payload value still makes a key.
    assert registry.ordering_key(event("merchant.webhook", {"order_id": ["a"]})) == (
        "merchant.webhook",
        "['a']",
    )
    with pytest.raises(ValueError, match="at least one"):
        registry.order_by("t")


async def test_a_failure_or_timeout_touches_only_its_own_event(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = keyed()
    release_slow = asyncio.Event()

    async def handler(event: DeliveredEvent) -> None:
        match event.payload["do"]:
            case "fail":
                raise ConnectionError("provider down")
            case "hang":
                await release_slow.wait()  # cut off by the remaining lease
            case _:
                pass

    registry.register("t", handler)
    payloads = [
        {"key": "a", "do": "fail"},
        {"key": "b", "do": "ok"},
        {"key": "a", "do": "ok"},  # behind the failure in its lane: still delivered
        {"key": "c", "do": "hang"},
        {"key": "d", "do": "ok"},
    ]
    ids = await enqueue_committed(engine, clock, "t", payloads)
    relay = lane_relay(engine, registry, clock)
    claims = await relay.claim()
    # The hanging handler's lease is nearly gone (as if it had waited its turn); the
    # others keep the full lease.
    claims[3] = replace(claims[3], lease_until=clock.now() + timedelta(seconds=0.2))

    assert await relay.deliver(claims) == 5
    rows = {row.id: row for row in await fetch_all(engine)}
    assert [rows[i].status for i in ids] == [
        "pending",
        "delivered",
        "delivered",
        "pending",
        "delivered",
    ]
    failed, hung = rows[ids[0]], rows[ids[3]]
    assert failed.last_error is not None
    assert failed.last_error.endswith("handler: ConnectionError: provider down")
    assert hung.last_error is not None
    assert "timed out" in hung.last_error
    assert (failed.attempts, failed.claimed_by, hung.attempts, hung.claimed_by) == (
        1,
        None,
        1,
        None,
    )
    assert failed.available_at > clock.now()
    assert hung.available_at > clock.now()
    for delivered in (ids[1], ids[2], ids[4]):
        assert (rows[delivered].attempts, rows[delivered].last_error) == (1, None)


async def test_stop_hands_back_every_lanes_unstarted_events(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = keyed()
    stop = asyncio.Event()
    both_started = asyncio.Event()
    started: list[int] = []

    async def handler(event: DeliveredEvent) -> None:
        started.append(event.id)
        if len(started) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), timeout=MEET_SECONDS)
        stop.set()  # SIGTERM arrives while two events are in hand

    registry.register("t", handler)
    keys = ["a", "b", "a", "b", "c", "d"]
    ids = await enqueue_committed(engine, clock, "t", [{"key": key} for key in keys])
    relay = lane_relay(engine, registry, clock, concurrency=2)

    assert await relay.deliver(await relay.claim(), stop=stop) == 2
    assert started == ids[:2]
    rows = await fetch_all(engine)
    assert [(row.status, row.attempts, row.claimed_by) for row in rows] == [
        ("delivered", 1, "relay-a"),
        ("delivered", 1, "relay-a"),
        *[("pending", 0, None)] * 4,
    ]
    assert all(row.available_at == clock.now() for row in rows[2:])
    other = lane_relay(engine, registry, clock, worker_id="relay-b")
    assert await other.run_once() == 4


async def test_a_database_error_in_one_lane_lets_the_others_finish(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = keyed()
    delivered: list[int] = []

    async def handler(event: DeliveredEvent) -> None:
        delivered.append(event.id)

    registry.register("t", handler)
    keys = ["a", "b", "a", "c"]
    ids = await enqueue_committed(engine, clock, "t", [{"key": key} for key in keys])
    relay = lane_relay(engine, registry, clock)
    real_finish = relay._finish

    async def finish(event: DeliveredEvent, **values: Any) -> bool:
        if event.id == ids[0]:
            raise OSError("connection reset while recording the outcome")
        return await real_finish(event, **values)

    relay._finish = finish  # type: ignore[method-assign]
    with pytest.raises(OSError, match="connection reset"):
        await relay.deliver(await relay.claim())

    # Lane "a" stopped at its first event (the second waits for it, in order); "b" and
    # "c" were delivered and recorded.
    assert sorted(delivered) == [ids[0], ids[1], ids[3]]
    rows = {row.id: row for row in await fetch_all(engine)}
    assert [rows[i].status for i in ids] == ["pending", "delivered", "pending", "delivered"]
    # Lane "a" keeps its claims until the lease runs out, then comes back in order.
    assert [(rows[i].claimed_by, rows[i].attempts) for i in (ids[0], ids[2])] == [
        ("relay-a", 1),
        ("relay-a", 1),
    ]
    relay._finish = real_finish  # type: ignore[method-assign]
    clock.advance(LEASE)
    delivered.clear()
    assert await relay.run_once() == 2
    assert delivered == [ids[0], ids[2]]


def test_concurrency_must_be_positive(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        lane_relay(engine, HandlerRegistry(), FrozenClock(), concurrency=0)
