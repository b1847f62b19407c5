"""The relay woken by ``enqueue`` itself: every feature's events leave right after commit.

Unit level: a unit that enqueues rings the connected wake-up once after commit (however
many events it wrote), never on a rollback, and a session outside a unit of work still
enqueues (the poll delivers). End to end: the API's embedded relay polling every 30 s
delivers a paid order's and a payment-code charge's ``order.paid`` webhook to a real
HTTP receiver within two seconds -- only the wake-up after commit can explain that; and
``ewallet worker`` wakes its relays after its own handlers' commits.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ewallet.cli.worker import run_worker
from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.security.context import SecurityContext
from ewallet.services import Services
from ewallet.worker.outbox import enqueue, waking
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from tests.fixtures.accounts import make_app
from tests.fixtures.payment_codes import charge, show_code
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop, clock, shop_settings
from tests.payments.webhook_receiver import Receiver, receiver
from tests.worker.helpers import count_events, enqueue_committed

__all__ = ["clock", "receiver"]  # the fixtures

LONG_POLL_SECONDS = 30.0
PROMPT_SECONDS = 2.0


class Bell:
    def __init__(self) -> None:
        self.rings = 0

    def __call__(self) -> None:
        self.rings += 1


async def test_a_unit_that_enqueues_rings_once_after_commit(engine: AsyncEngine) -> None:
    clock, bell = FrozenClock(), Bell()

    async def three_events(uow: UnitOfWork) -> None:
        before = bell.rings
        for number in range(3):
            await enqueue(uow.session, topic="t", payload={"n": number}, clock=clock)
        assert bell.rings == before  # not before the commit

    async def nothing_queued(uow: UnitOfWork) -> None:
        await (await uow.connection()).exec_driver_sql("SELECT 1")

    with waking(engine, bell):
        await run_unit(engine, three_events)
        assert bell.rings == 1  # three events, one wake-up
        await run_unit(engine, nothing_queued)
        assert bell.rings == 1  # no event, no wake-up
    await run_unit(engine, three_events)
    assert bell.rings == 1  # disconnected: the poll delivers, nothing rings
    assert await count_events(engine) == 6


async def test_a_rolled_back_unit_rings_nothing(engine: AsyncEngine) -> None:
    clock, bell = FrozenClock(), Bell()

    async def refused(uow: UnitOfWork) -> None:
        await enqueue(uow.session, topic="t", payload={}, clock=clock)
        raise LookupError("refused")

    with waking(engine, bell), pytest.raises(LookupError):
        await run_unit(engine, refused)
    assert bell.rings == 0
    assert await count_events(engine) == 0


async def test_a_session_outside_a_unit_still_enqueues(engine: AsyncEngine) -> None:
    clock, bell = FrozenClock(), Bell()
    with waking(engine, bell):
        async with AsyncSession(engine) as session:
            await enqueue(session, topic="t", payload={}, clock=clock)
            await session.commit()
    assert bell.rings == 0  # nothing to hook: the relay's poll delivers it
    assert await count_events(engine) == 1


async def test_the_worker_process_wakes_its_relays_after_its_own_commits(
    engine: AsyncEngine, settings: Settings
) -> None:
    """``ewallet worker``: a handler's follow-up event (a bill's delivery queues a notice,
    say) leaves at once, not at the next 30-second poll."""
    clock = FrozenClock()
    arrived = asyncio.Event()

    def registry(services: Services) -> HandlerRegistry:
        built = HandlerRegistry()

        async def first(event: DeliveredEvent) -> None:
            async def work(uow: UnitOfWork) -> None:
                await enqueue(uow.session, topic="second", payload={}, clock=services.clock)

            await run_unit(services.engine, work)

        async def second(event: DeliveredEvent) -> None:
            arrived.set()

        built.register("first", first)
        built.register("second", second)
        return built

    await enqueue_committed(engine, clock, "first", [{}])  # due when the relays start
    stop = asyncio.Event()
    slow_poll = settings.model_copy(update={"outbox_poll_seconds": LONG_POLL_SECONDS})
    task = asyncio.create_task(
        run_worker(slow_poll, once=False, concurrency=1, registry=registry, clock=clock, stop=stop)
    )
    try:
        await asyncio.wait_for(arrived.wait(), timeout=PROMPT_SECONDS * 2)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def _delivered(receiver: Receiver, count: int, *, within: float) -> float:
    """Seconds until ``receiver`` has ``count`` calls (fails after ``within``)."""
    started = time.monotonic()
    while len(receiver.calls) < count:
        assert time.monotonic() - started < within, f"{len(receiver.calls)} of {count} arrived"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_money_webhooks_leave_right_after_commit(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, receiver: Receiver
) -> None:
    receiver.failures = 0
    quick = shop_settings(settings, embedded_worker=True, outbox_poll_seconds=LONG_POLL_SECONDS)
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        shop = Shop(engine, quick, clock, security, client, app_services(app), app)
        merchant = await shop.merchant(webhook_url=f"{receiver.url}/hooks")
        user = await shop.customer("+8613900000931", "50.00")
        order_id = await shop.order(merchant, "3.00", out_trade_no="W-1")
        # Whatever the setup queued (SMS) is delivered, and the relay is back to its
        # 30-second wait, before the money moves.
        await asyncio.sleep(0.3)
        assert receiver.calls == []

        assert (await shop.pay(user, order_id)).status_code == 201
        await _delivered(receiver, 1, within=PROMPT_SECONDS)

        code = await show_code(shop, user)
        charged = await charge(shop, merchant, code, "1.00", out_trade_no="W-2")
        assert charged.status_code == 201, charged.text
        await _delivered(receiver, 2, within=PROMPT_SECONDS)

    events = [json.loads(call["body"]) for call in receiver.calls]
    assert [event["type"] for event in events] == ["order.paid", "order.paid"]
    assert events[0]["data"]["order"]["id"] == order_id
    assert events[1]["data"]["order"]["out_trade_no"] == "W-2"
