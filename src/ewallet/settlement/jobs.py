"""The periodic settlement job: settle the due business day, then finish open payouts.

Every ``EWALLET_SETTLEMENT_INTERVAL_SECONDS`` the worker runs the settlement of the day
that is due (today in Beijing minus ``settlement_delay_days``: T+1 by default) -- a day
already settled costs one read and pays nobody again -- and then asks the bank about
every payout still open (:func:`ewallet.settlement.service.settle_open_payouts`). A
failing run is logged and retried at the next tick; it never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.settlement.service import due_day, run_settlement, settle_open_payouts
from ewallet.settlement.views import RunReport

log = structlog.get_logger(__name__)


async def settle_due_day(services: Services) -> tuple[RunReport, RunReport]:
    """One tick: the due day's run, then the open payouts of any day."""
    day = due_day(services.clock.now(), services.settings.settlement_delay_days)
    run = await run_settlement(services, day=day)
    return run, await settle_open_payouts(services)


async def settle_periodically(services: Services, *, stop: asyncio.Event) -> None:
    interval = services.settings.settlement_interval_seconds
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            await settle_due_day(services)
        except (DomainError, SQLAlchemyError, OSError) as error:
            log.warning("settlement.run_failed", error=repr(error))


@contextlib.asynccontextmanager
async def settling_in_background(services: Services) -> AsyncIterator[None]:
    """Run the settlement loop as a task while the block runs (nothing when the interval
    is 0)."""
    if services.settings.settlement_interval_seconds <= 0:
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
