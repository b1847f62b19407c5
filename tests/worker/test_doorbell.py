"""``services.wake_outbox`` of a process whose relays start after its services."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bootstrap.outbox import OutboxDoorbell
from ewallet.kit.clock import FrozenClock
from ewallet.worker.pool import RelayPool
from ewallet.worker.registry import HandlerRegistry
from tests.worker.helpers import Recorder, enqueue_committed, make_relay


async def test_the_doorbell_rings_the_connected_pool_only(engine: AsyncEngine) -> None:
    clock = FrozenClock()
    recorder = Recorder()
    registry = HandlerRegistry()
    registry.register("t", recorder)
    pool = RelayPool([make_relay(engine, registry, clock, worker_id="bell")])
    doorbell = OutboxDoorbell()
    doorbell()  # no relay yet: nothing to wake, and no error
    stop = asyncio.Event()
    with doorbell.connected(pool):
        # An hour-long poll: only the doorbell can explain a prompt delivery.
        task = asyncio.create_task(pool.run_forever(stop, poll_seconds=3600))
        await asyncio.sleep(0.05)
        ids = await enqueue_committed(engine, clock, "t", [{}])
        doorbell()
        for _ in range(500):
            if recorder.calls:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert recorder.ids == ids
    doorbell()  # disconnected again: silent
