"""The embedded default's outbox delivery: the API process relays its own events.

In development one process is the whole wallet, so SMS must arrive without a separate
``ewallet worker``. Services wake the relay right after their commits
(``app.state.outbox_pool.notify``); it also polls. In production, workers run apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Environment, Settings
from ewallet.http.deps import app_clock
from ewallet.worker.pool import RelayPool, default_worker_id
from ewallet.worker.registry import default_registry
from ewallet.worker.relay import OutboxRelay

SHUTDOWN_GRACE_SECONDS = 0.5


@asynccontextmanager
async def embedded_outbox(
    app: FastAPI, settings: Settings, engine: AsyncEngine
) -> AsyncIterator[None]:
    """Relay the outbox in this process while the app runs (development only)."""
    if settings.env is not Environment.DEVELOPMENT or not settings.embedded_worker:
        yield
        return
    clock = app_clock(app)
    relay = OutboxRelay(
        engine,
        default_registry(settings, engine=engine, clock=clock),
        clock,
        # Unique per app: tests and ``--workers N`` run several embedded relays side by side.
        worker_id=f"{default_worker_id(0)[:50]}-{secrets.token_hex(4)}",
        batch_size=settings.outbox_batch_size,
        max_attempts=settings.outbox_max_attempts,
    )
    pool = RelayPool([relay])
    app.state.outbox_pool = pool
    stop = asyncio.Event()
    task = asyncio.create_task(_relay_once_migrated(pool, engine, stop, settings))
    try:
        yield
    finally:
        stop.set()
        # A relay mid-delivery gets a moment to finish; past that it is cancelled. Its
        # claimed events keep their leases and are delivered again (at least once).
        done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_GRACE_SECONDS)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        app.state.outbox_pool = None


async def _relay_once_migrated(
    pool: RelayPool, engine: AsyncEngine, stop: asyncio.Event, settings: Settings
) -> None:
    """Wait (quietly) until the database is reachable and has the outbox, then relay."""
    while not stop.is_set():
        try:
            async with engine.connect() as connection:
                ready = await connection.run_sync(
                    lambda sync: inspect(sync).has_table("outbox_events")
                )
        except (OSError, SQLAlchemyError):
            ready = False
        if ready:
            await pool.run_forever(stop, settings.outbox_poll_seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(1.0, settings.outbox_poll_seconds))
