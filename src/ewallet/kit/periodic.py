"""A job that runs every so often beside the process's real work, and never stops it.

The worker (and, for some jobs, the API process) runs several such jobs: settle unknown
bank outcomes, fold the ledger's hot-account deltas, pay merchants, collect the day's
large-value transactions. Each one is :func:`running_every`: a task that waits
``interval`` seconds, runs ``tick``, and goes on. It waits first, so a process that just
started lets its own requests finish. A tick that fails with one of ``errors`` is logged
as ``failure_event`` and retried at the next tick; any other exception is a bug: it ends
the task, and leaving the block raises it. An interval of 0 runs nothing, which is how
tests and single-purpose processes turn a job off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

import structlog
from sqlalchemy.exc import SQLAlchemyError

from ewallet.kit.errors import DomainError

log = structlog.get_logger(__name__)

# A refusal, a database hiccup or a peer out of reach: worth another try next time.
PASSING_ERRORS: Final[tuple[type[Exception], ...]] = (DomainError, SQLAlchemyError, OSError)


async def repeat_every(
    interval: float,
    tick: Callable[[], Awaitable[object]],
    *,
    stop: asyncio.Event,
    failure_event: str,
    errors: tuple[type[Exception], ...] = PASSING_ERRORS,
) -> None:
    """Run ``tick`` every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            await tick()
        except errors as error:
            log.warning(failure_event, error=repr(error))


@contextlib.asynccontextmanager
async def running_every(
    interval: float,
    tick: Callable[[], Awaitable[object]],
    *,
    failure_event: str,
    errors: tuple[type[Exception], ...] = PASSING_ERRORS,
) -> AsyncIterator[None]:
    """Run :func:`repeat_every` as a task while the block runs (nothing when ``interval``
    is 0); leaving the block stops it, a tick in progress included."""
    if interval <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        repeat_every(interval, tick, stop=stop, failure_event=failure_event, errors=errors)
    )
    try:
        yield
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
