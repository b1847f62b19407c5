"""Writing to the outbox: same transaction as the change, strict JSON, purge and requeue."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.worker.outbox import (
    OutboxPayloadError,
    OutboxTopicError,
    check_json,
    enqueue,
    purge_delivered,
    requeue_dead,
)
from ewallet.worker.registry import HandlerRegistry
from tests.worker.helpers import (
    Recorder,
    count_events,
    enqueue_committed,
    fetch,
    fetch_all,
    make_relay,
)


class RefusedError(Exception):
    """The business rule refused the change after the event was written."""


async def test_rolled_back_unit_sends_nothing(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("sms.send", recorder)

    async def by_hand() -> None:
        async with UnitOfWork(engine) as uow:
            await enqueue(uow.session, topic="sms.send", payload={"to": "1"}, clock=clock)
            raise RefusedError

    async def failing(uow: UnitOfWork) -> None:
        await enqueue(uow.session, topic="sms.send", payload={"to": "2"}, clock=clock)
        raise RefusedError

    with pytest.raises(RefusedError):
        await by_hand()
    with pytest.raises(RefusedError):
        await run_unit(engine, failing)

    clock.advance(timedelta(days=1))
    assert await make_relay(engine, registry, clock).run_once() == 0
    assert recorder.calls == []
    assert await count_events(engine) == 0


async def test_enqueue_writes_a_pending_row_in_the_callers_transaction(
    engine: AsyncEngine,
) -> None:
    clock = FrozenClock()
    payload: dict[str, Any] = {"amount": {"minor": 1230, "currency": "CNY"}, "tags": ["a"]}
    async with UnitOfWork(engine) as uow:
        first = await enqueue(uow.session, topic="ledger.posted", payload=payload, clock=clock)
        second = await enqueue(uow.session, topic="ledger.posted", payload={}, clock=clock)
        await uow.commit()
    assert second > first
    row = await fetch(engine, first)
    assert (row.topic, row.payload, row.status, row.attempts) == (
        "ledger.posted",
        payload,
        "pending",
        0,
    )
    assert row.created_at == row.available_at == clock.now()
    assert (row.claimed_by, row.last_error, row.delivered_at) == (None, None, None)


async def test_delay_holds_the_event_back(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("reminder", recorder)
    async with UnitOfWork(engine) as uow:
        await enqueue(
            uow.session,
            topic="reminder",
            payload={},
            clock=clock,
            delay=timedelta(minutes=10),
        )
        await uow.commit()
    relay = make_relay(engine, registry, clock)
    clock.advance(timedelta(minutes=10) - timedelta(microseconds=1))
    assert await relay.run_once() == 0
    clock.advance(timedelta(microseconds=1))
    assert await relay.run_once() == 1
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"amount": Decimal("1.23")}, "payload['amount'] is a Decimal"),
        ({"at": datetime(2026, 1, 1, tzinfo=UTC)}, "payload['at'] is a datetime"),
        ({"x": [1, {"y": math.nan}]}, "payload['x'][1]['y'] is nan (not finite)"),
        ({"x": math.inf}, "is inf (not finite)"),
        ({"x": (1, 2)}, "payload['x'] is a tuple (use a list)"),
        ({1: "a"}, "payload has a int key 1 (keys must be str)"),
        (["not", "a", "dict"], "must be a dict, got list"),
    ],
)
def test_payload_must_be_plain_json(payload: Any, message: str) -> None:
    with pytest.raises(OutboxPayloadError, match=r"topic 'sms\.send'") as caught:
        check_json(payload, topic="sms.send")
    assert message in str(caught.value)


def test_plain_json_passes() -> None:
    check_json(
        {"a": None, "b": True, "c": 1, "d": 1.5, "e": "x", "f": [{"g": []}], "h": {}},
        topic="t",
    )


async def test_enqueue_refuses_bad_input_before_touching_the_session(
    engine: AsyncEngine,
) -> None:
    clock = FrozenClock()
    async with UnitOfWork(engine) as uow:
        with pytest.raises(OutboxPayloadError):
            await enqueue(uow.session, topic="t", payload={"x": object()}, clock=clock)
        for topic in ("", " padded", "x" * 65):
            with pytest.raises(OutboxTopicError):
                await enqueue(uow.session, topic=topic, payload={}, clock=clock)
        with pytest.raises(ValueError, match="negative"):
            await enqueue(
                uow.session, topic="t", payload={}, clock=clock, delay=timedelta(seconds=-1)
            )
        await uow.commit()
    assert await count_events(engine) == 0


async def test_purge_deletes_only_old_delivered_events(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = HandlerRegistry()
    registry.register("ok", Recorder())
    relay = make_relay(engine, registry, clock)
    old = await enqueue_committed(engine, clock, "ok", [{"n": 1}, {"n": 2}, {"n": 3}])
    [dead] = await enqueue_committed(engine, clock, "nobody.listens", [{}])
    assert await relay.run_once() == 4
    async with UnitOfWork(engine) as uow:
        pending = await enqueue(
            uow.session, topic="ok", payload={}, clock=clock, delay=timedelta(days=30)
        )
        await uow.commit()
    clock.advance(timedelta(days=7))
    [recent] = await enqueue_committed(engine, clock, "ok", [{}])
    assert await relay.run_once() == 1
    # Delivered exactly 7 days ago is not older than 7 days.
    assert await purge_delivered(engine, clock=clock, older_than=timedelta(days=7)) == 0
    clock.advance(timedelta(microseconds=1))
    assert await purge_delivered(engine, clock=clock, older_than=timedelta(days=7), chunk=2) == 3
    remaining = {row.id: row.status for row in await fetch_all(engine)}
    assert remaining == {dead: "dead", pending: "pending", recent: "delivered"}
    assert not set(old) & set(remaining)


async def test_requeue_dead_gives_fresh_attempts(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    registry = HandlerRegistry()
    relay = make_relay(engine, registry, clock)
    [first, second] = await enqueue_committed(engine, clock, "late.handler", [{}, {}])
    [other] = await enqueue_committed(engine, clock, "other", [{}])
    assert await relay.run_once() == 3
    recorder = Recorder()
    registry.register("late.handler", recorder)

    assert await requeue_dead(engine, clock=clock, ids=[first], topic="late.handler") == 1
    assert await requeue_dead(engine, clock=clock, topic="late.handler") == 1
    assert await relay.run_once() == 2
    assert recorder.ids == [first, second]
    row = await fetch(engine, first)
    assert (row.status, row.attempts) == ("delivered", 1)
    assert row.last_error == "no handler registered for topic 'late.handler'"
    assert (await fetch(engine, other)).status == "dead"
