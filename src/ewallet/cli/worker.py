"""``ewallet worker [--once] [--concurrency N]``: deliver the outbox.

Runs N relays in one process (distinct worker ids ``hostname-pid-n``) until SIGINT or
SIGTERM; on a signal each relay finishes the event in hand, hands its other claims back
and exits, so a deploy never waits for a lease to expire. ``--once`` delivers what is due
and exits (cron, tests). Run more processes, on more hosts, for more throughput: claims
never overlap (``SKIP LOCKED`` on PostgreSQL, the write lock on SQLite). Unless
``--no-settle``, it also runs the funding settle job every ``EWALLET_SETTLE_INTERVAL_SECONDS``,
and the ledger's upkeep (hot accounts' deltas folded, due holds expired) every
``EWALLET_LEDGER_UPKEEP_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated

import structlog
import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings, load_settings
from ewallet.funding.jobs import settling_in_background
from ewallet.integrations.bank.wiring import standalone_bank_gateway
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.ledger import Ledger
from ewallet.ledger.upkeep import upkeep_in_background
from ewallet.worker.pool import RelayPool, default_worker_id
from ewallet.worker.registry import HandlerRegistry, default_registry
from ewallet.worker.relay import OutboxRelay

log = structlog.get_logger(__name__)


async def run_worker(
    settings: Settings,
    *,
    once: bool,
    concurrency: int,
    registry: HandlerRegistry | None = None,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    settle: bool = False,
) -> int:
    """Run the relays; return how many events got an outcome (``--once``) or 0.

    With ``settle`` (the command's default) the process also runs the funding settle job.
    """
    stop = stop or asyncio.Event()
    # One connection per relay at a time, plus spares for the pool's own bookkeeping, the
    # settle job and the ledger fold.
    engine = make_engine(settings.database_url, pool_size=concurrency + 3, echo=settings.db_echo)
    registry = registry or default_registry()
    clock = clock or SystemClock()
    try:
        pool = RelayPool(
            [
                OutboxRelay(
                    engine,
                    registry,
                    clock,
                    worker_id=default_worker_id(index),
                    batch_size=settings.outbox_batch_size,
                    max_attempts=settings.outbox_max_attempts,
                )
                for index in range(1, concurrency + 1)
            ]
        )
        with _stop_on_signals(stop):
            log.info("worker.start", once=once, worker_ids=[r.worker_id for r in pool.relays])
            if once:
                return await pool.drain(stop)
            async with (
                _settling(settings, engine, clock, enabled=settle),
                upkeep_in_background(
                    Ledger(engine, clock=clock), interval=settings.ledger_upkeep_interval_seconds
                ),
            ):
                await pool.run_forever(stop, settings.outbox_poll_seconds)
            return 0
    finally:
        await engine.dispose()
        log.info("worker.stop")


@asynccontextmanager
async def _settling(
    settings: Settings, engine: AsyncEngine, clock: Clock, *, enabled: bool
) -> AsyncIterator[None]:
    """Settle pending card top-ups and withdrawals alongside delivering the outbox."""
    if not enabled or settings.settle_interval_seconds <= 0:
        yield
        return
    ledger = Ledger(engine, clock=clock)
    async with (
        standalone_bank_gateway(settings, clock) as gateway,
        settling_in_background(
            engine, settings=settings, clock=clock, gateway=gateway, ledger=ledger
        ),
    ):
        yield


@contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM while the worker runs."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(signum: signal.Signals) -> None:
        log.info("worker.stopping", signal=signum.name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):
            # Not the main thread (an embedding test) or a platform without signals:
            # the caller's ``stop`` event is then the only way to stop.
            continue
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", "-c", min=1, max=64, help="Relays in this process."),
    ] = 1,
    settle: Annotated[
        bool,
        typer.Option(help="Also settle pending card top-ups and withdrawals with the bank."),
    ] = True,
) -> None:
    """Deliver outbox events (SMS, email, webhooks, ledger events) until stopped."""
    settings = load_settings()
    handled = asyncio.run(run_worker(settings, once=once, concurrency=concurrency, settle=settle))
    if once:
        typer.echo(f"outbox: {handled} event(s) handled")
