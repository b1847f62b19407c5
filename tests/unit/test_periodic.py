"""kit.periodic: a job every interval that survives passing failures and stops with its block."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from ewallet.kit.errors import ConflictError
from ewallet.kit.periodic import running_every


async def test_ticks_go_on_after_a_passing_failure() -> None:
    ticks: list[int] = []
    done = asyncio.Event()

    async def tick() -> None:
        ticks.append(len(ticks))
        if len(ticks) == 1:
            raise ConflictError("busy this time")
        if len(ticks) == 3:
            done.set()

    with structlog.testing.capture_logs() as logs:
        async with running_every(0.01, tick, failure_event="test.tick_failed"):
            await asyncio.wait_for(done.wait(), timeout=5)
    assert ticks[:3] == [0, 1, 2]
    assert [entry["event"] for entry in logs].count("test.tick_failed") == 1


async def test_an_unexpected_error_ends_the_job_and_leaving_the_block_raises_it() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        ticks += 1
        raise ZeroDivisionError

    with structlog.testing.capture_logs() as logs, pytest.raises(ZeroDivisionError):
        async with running_every(0.01, tick, failure_event="test.tick_failed"):
            await asyncio.sleep(0.1)
    assert ticks == 1
    assert not [entry for entry in logs if entry["event"] == "test.tick_failed"]


async def test_interval_zero_runs_nothing_and_waiting_comes_first() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        ticks += 1

    async with running_every(0, tick, failure_event="test.tick_failed"):
        await asyncio.sleep(0.05)
    async with running_every(30, tick, failure_event="test.tick_failed"):
        await asyncio.sleep(0.05)
    assert ticks == 0


async def test_leaving_the_block_stops_a_tick_in_progress() -> None:
    started = asyncio.Event()
    finished = False

    async def tick() -> None:
        nonlocal finished
        started.set()
        await asyncio.sleep(30)
        finished = True

    async with running_every(0.01, tick, failure_event="test.tick_failed"):
        await asyncio.wait_for(started.wait(), timeout=5)
    assert not finished


@pytest.mark.parametrize("interval", [-1.0])
async def test_a_negative_interval_is_off_too(interval: float) -> None:
    async def tick() -> None:
        raise AssertionError("never runs")

    async with running_every(interval, tick, failure_event="test.tick_failed"):
        await asyncio.sleep(0.02)
