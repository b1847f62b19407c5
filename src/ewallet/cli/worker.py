"""``ewallet worker [--once] [--concurrency N]``: deliver the outbox.

Runs N relays in one process (distinct worker ids ``hostname-pid-n``) until SIGINT or
SIGTERM; on a signal each relay finishes the event in hand, hands its other claims back
and exits, so a deploy never waits for a lease to expire. ``--once`` delivers what is due
and exits (cron, tests). Run more processes, on more hosts, for more throughput: claims
never overlap (``SKIP LOCKED`` on PostgreSQL, the write lock on SQLite). Unless
``--no-settle``, it also runs the funding settle job every ``EWALLET_SETTLE_INTERVAL_SECONDS``,
and the ledger's upkeep (hot accounts' deltas folded, due holds expired) every
``EWALLET_LEDGER_UPKEEP_INTERVAL_SECONDS``.

A process of its own: it opens its services from the composition root (sized for its
relays) rather than the command line's shared ones, and its handlers are the table of
:func:`ewallet.bootstrap.outbox.outbox_registry`.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from typing import Annotated

import structlog
import typer

from ewallet.bills.card_funding.jobs import settle_pending_bill_card_payments
from ewallet.bootstrap import running_services
from ewallet.bootstrap.outbox import OutboxDoorbell, outbox_registry
from ewallet.cli.context import cli_services
from ewallet.config import Settings
from ewallet.funding.jobs import settling_in_background
from ewallet.identity.closure.jobs import erasing_in_background as erasing_closed_accounts
from ewallet.kit.clock import Clock
from ewallet.ledger.upkeep import upkeep_in_background
from ewallet.payments.card_funding.jobs import settle_pending_card_payments
from ewallet.risk.aml.jobs import collecting_in_background as collecting_aml_reports
from ewallet.services import Services
from ewallet.settlement.jobs import settling_in_background as settling_payouts
from ewallet.worker.pool import RelayPool, default_worker_id
from ewallet.worker.registry import HandlerRegistry
from ewallet.worker.relay import OutboxRelay

log = structlog.get_logger(__name__)


async def run_worker(
    settings: Settings,
    *,
    once: bool,
    concurrency: int,
    registry: Callable[[Services], HandlerRegistry] | None = None,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    settle: bool = False,
) -> int:
    """Run the relays; return how many events got an outcome (``--once``) or 0.

    The services come from the composition root, with one connection per delivery in flight
    (``concurrency`` relays × ``EWALLET_OUTBOX_CONCURRENCY``) plus spares
    for the pool's own bookkeeping, the settle job and the ledger fold; ``registry`` builds
    the handler table on them (default: :func:`~ewallet.bootstrap.outbox.outbox_registry`).
    With ``settle`` (the command's default) the process also runs the periodic jobs: the
    funding settle job, merchant settlement and the AML large-value collection.
    """
    stop = stop or asyncio.Event()
    doorbell = OutboxDoorbell()
    # Each relay has up to outbox_concurrency deliveries in flight, a connection each.
    connections = concurrency * settings.outbox_concurrency + 3
    async with running_services(
        settings, clock, pool_size=connections, wake_outbox=doorbell
    ) as services:
        handlers = (registry or outbox_registry)(services)
        pool = RelayPool(
            [
                OutboxRelay(
                    services.engine,
                    handlers,
                    services.clock,
                    worker_id=default_worker_id(index),
                    batch_size=settings.outbox_batch_size,
                    max_attempts=settings.outbox_max_attempts,
                    concurrency=settings.outbox_concurrency,
                )
                for index in range(1, concurrency + 1)
            ]
        )
        try:
            with _stop_on_signals(stop), doorbell.connected(pool):
                log.info("worker.start", once=once, worker_ids=[r.worker_id for r in pool.relays])
                if once:
                    return await pool.drain(stop)
                async with (
                    _settling(services, enabled=settle),
                    settling_payouts(services) if settle else nullcontext(),
                    collecting_aml_reports(services) if settle else nullcontext(),
                    erasing_closed_accounts(services) if settle else nullcontext(),
                    upkeep_in_background(
                        services.ledger, interval=settings.ledger_upkeep_interval_seconds
                    ),
                ):
                    await pool.run_forever(stop, settings.outbox_poll_seconds)
                return 0
        finally:
            log.info("worker.stop")


def _settling(services: Services, *, enabled: bool) -> AbstractAsyncContextManager[None]:
    """Settle pending card top-ups and withdrawals alongside delivering the outbox."""
    if not enabled:
        return nullcontext()
    return settling_in_background(
        services, settle_pending_card_payments, settle_pending_bill_card_payments
    )


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
    ctx: typer.Context,
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
    settings = cli_services(ctx).settings
    handled = asyncio.run(run_worker(settings, once=once, concurrency=concurrency, settle=settle))
    if once:
        typer.echo(f"outbox: {handled} event(s) handled")
