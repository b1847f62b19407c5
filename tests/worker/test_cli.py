"""``ewallet worker``: ``--once`` drains the queue; a signal stops the long-running form."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

import ewallet.cli.worker as worker_cli
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.services import Services
from ewallet.worker.registry import HandlerRegistry
from tests.worker.helpers import Recorder, enqueue_committed, fetch_all


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()

    def registry(services: Services) -> HandlerRegistry:
        del services
        built = HandlerRegistry()
        built.register("sms.send", recorder)
        return built

    monkeypatch.setattr(worker_cli, "outbox_registry", registry)
    return recorder


async def test_once_drains_the_queue(
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    recorder: Recorder,
) -> None:
    # Enqueued long ago by a frozen clock, so they are due for the worker's system clock.
    clock = FrozenClock(datetime(2020, 1, 1, tzinfo=UTC))
    ids = await enqueue_committed(engine, clock, "sms.send", [{"n": n} for n in range(5)])
    [unknown] = await enqueue_committed(engine, clock, "nobody.listens", [{}])
    monkeypatch.setenv("EWALLET_DATABASE_URL", database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(tmp_path / "var"))
    app = typer.Typer()
    app.command()(worker_cli.worker)

    # A thread of its own: the command runs its own event loop, as from a shell.
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["--once", "--concurrency", "2"], catch_exceptions=False
    )

    assert result.exit_code == 0, result.output
    assert "outbox: 6 event(s) handled" in result.output
    assert sorted(recorder.ids) == ids
    statuses = {row.id: row.status for row in await fetch_all(engine)}
    assert statuses == {**dict.fromkeys(ids, "delivered"), unknown: "dead"}

    again = await asyncio.to_thread(CliRunner().invoke, app, ["--once"], catch_exceptions=False)
    assert "outbox: 0 event(s) handled" in again.output
    assert len(recorder.calls) == 5


async def test_sigterm_stops_the_worker(settings: Settings, recorder: Recorder) -> None:
    task = asyncio.create_task(worker_cli.run_worker(settings, once=False, concurrency=2))
    for _ in range(500):
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
            break
        await asyncio.sleep(0.01)
    else:
        task.cancel()
        pytest.fail("the worker never installed its SIGTERM handler")
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=10) == 0
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
