"""The periodic job that settles card top-ups and withdrawals left with an unknown outcome.

Every ``EWALLET_SETTLE_INTERVAL_SECONDS`` the worker (and, in development, the API process
itself, started by the composition root) asks the bank about each pending item
(:func:`ewallet.funding.service.settle_funding_once`). Several copies may run at once: each
settling step is a conditional update plus an idempotent ledger key, so racing runs settle
an item once. A failing run is logged and retried at the next tick; it never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ewallet.funding.service import settle_funding_once, settle_grace
from ewallet.kit.errors import DomainError
from ewallet.services import Services

log = structlog.get_logger(__name__)


async def settle_periodically(services: Services, *, stop: asyncio.Event) -> None:
    """Run :func:`settle_funding_once` every interval until ``stop`` is set."""
    interval = services.settings.settle_interval_seconds
    grace = settle_grace(services)
    while not stop.is_set():
        # Wait first: a process that just started lets its own requests finish settling.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            await settle_funding_once(services, grace=grace)
        except (DomainError, SQLAlchemyError, OSError) as error:
            log.warning("funding.settle_run_failed", error=repr(error))


@contextlib.asynccontextmanager
async def settling_in_background(services: Services) -> AsyncIterator[None]:
    """Run the settle loop as a task while the block runs (nothing when the interval is 0)."""
    if services.settings.settle_interval_seconds <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(settle_periodically(services, stop=stop))
    try:
        yield
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
