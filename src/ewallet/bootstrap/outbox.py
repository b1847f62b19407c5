"""The outbox's handler table, and the relay the API process runs for itself in development.

:func:`outbox_registry` is the one place that says which handler receives each topic; the
worker and the embedded relay both use it. Each handler module exposes
``register(registry, services)`` and uses the process's services (``services.engine``,
``services.biller``, ...): no handler builds an engine or a SecurityContext of its own. The
``sms.send`` handler is the root's own (:mod:`ewallet.bootstrap.sms`), since the SMS
adapters sit below the services and the outbox. Adapters are chosen and validated while the
table is built, so a refused configuration (the capturing SMS provider in production, say)
stops the process at start-up.

A topic without a handler is not an error here: its events go ``dead`` with a clear
``last_error`` instead of looping, and ``requeue_dead`` revives them once one exists.

:data:`ORDERING` is the other half of the table: a relay delivers a batch's events
concurrently (``EWALLET_OUTBOX_CONCURRENCY``) except those of one ordering key, which go one
after another in id order (:meth:`~ewallet.worker.registry.HandlerRegistry.order_by`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bills import jobs as bills_jobs
from ewallet.bills.delivery import DELIVERY_TOPIC as BILL_DELIVERY_TOPIC
from ewallet.bootstrap import sms
from ewallet.funding.withdrawals import jobs as withdrawals_jobs
from ewallet.funding.withdrawals.card_transfers.service import (
    ARRIVAL_TOPIC as CARD_TRANSFER_ARRIVAL_TOPIC,
)
from ewallet.funding.withdrawals.review import SUBMIT_TOPIC as WITHDRAWAL_SUBMIT_TOPIC
from ewallet.identity.data_copy import jobs as data_copy_jobs
from ewallet.identity.data_copy.service import BUILD_TOPIC as DATA_COPY_TOPIC
from ewallet.money_requests import jobs as money_requests_jobs
from ewallet.money_requests.service import EXPIRY_TOPIC as MONEY_REQUEST_EXPIRY_TOPIC
from ewallet.notify.service import SMS_TOPIC
from ewallet.payments import jobs as payments_jobs
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC
from ewallet.services import Services
from ewallet.support import jobs as support_jobs
from ewallet.support.mail.compose import EMAIL_TOPIC
from ewallet.transfers.arrival import jobs as transfer_arrival_jobs
from ewallet.transfers.arrival.service import ARRIVAL_TOPIC as TRANSFER_ARRIVAL_TOPIC
from ewallet.worker.outbox import waking
from ewallet.worker.pool import RelayPool, default_worker_id
from ewallet.worker.registry import HandlerRegistry
from ewallet.worker.relay import OutboxRelay

SHUTDOWN_GRACE_SECONDS = 0.5

# Which events of a topic must leave one after another (in id order): those whose payloads
# agree on these fields. Everything else may be delivered side by side.
ORDERING: Mapping[str, tuple[str, ...]] = {
    # An order's webhooks in the order they happened (order.paid before order.refunded);
    # different orders, even of one merchant, are independent.
    WEBHOOK_TOPIC: ("order_id",),
    # One phone's or one mailbox's messages in the order they were written (a newer code
    # after an older one; a ticket's replies in sequence).
    SMS_TOPIC: ("to",),
    EMAIL_TOPIC: ("to",),
    # Jobs about one record (a record has at most one pending event of each today; the
    # key keeps a replayed or duplicated one from racing the first).
    BILL_DELIVERY_TOPIC: ("bill_payment_id",),
    WITHDRAWAL_SUBMIT_TOPIC: ("withdrawal_id",),
    CARD_TRANSFER_ARRIVAL_TOPIC: ("card_transfer_id",),
    TRANSFER_ARRIVAL_TOPIC: ("transfer_id",),
    MONEY_REQUEST_EXPIRY_TOPIC: ("money_request_id",),
    DATA_COPY_TOPIC: ("data_copy_id",),
}


def outbox_registry(services: Services) -> HandlerRegistry:
    """The handlers ``ewallet worker`` and the embedded relay run, for ``services``, and
    how their events are ordered (:data:`ORDERING`; a topic not in it keeps all its events
    in one line)."""
    registry = HandlerRegistry()
    for topic, fields in ORDERING.items():
        registry.order_by(topic, *fields)
    sms.register(registry, services)
    payments_jobs.register(registry, services)
    support_jobs.register(registry, services)
    bills_jobs.register(registry, services)
    withdrawals_jobs.register(registry, services)
    data_copy_jobs.register(registry, services)
    money_requests_jobs.register(registry, services)
    transfer_arrival_jobs.register(registry, services)
    return registry


class OutboxDoorbell:
    """``services.wake_outbox`` of a process whose relays start after its services.

    While a pool is connected it rings after every commit that enqueued an outbox event
    (:func:`ewallet.worker.outbox.waking`: ``enqueue`` registers it on the unit of work, so
    no feature has to); services may also call it themselves
    (``uow.after_commit(services.wake_outbox)``). It wakes the relay pool connected at the
    time, and does nothing while none is.
    """

    __slots__ = ("_pool",)

    def __init__(self) -> None:
        self._pool: RelayPool | None = None

    def __call__(self) -> None:
        if self._pool is not None:
            self._pool.notify()

    @contextlib.contextmanager
    def connected(self, pool: RelayPool) -> Iterator[RelayPool]:
        """Ring ``pool`` while the block runs, after every commit on its relays' engines
        that enqueued an event."""
        self._pool = pool
        try:
            with contextlib.ExitStack() as rung:
                for engine in {relay.engine for relay in pool.relays}:
                    rung.enter_context(waking(engine, self))
                yield pool
        finally:
            self._pool = None


@asynccontextmanager
async def embedded_relay(
    services: Services, doorbell: OutboxDoorbell, app: FastAPI
) -> AsyncIterator[None]:
    """Relay the outbox in the API process while the block runs (the lifespan decides when).

    In development one process is the whole wallet, so SMS must arrive without a separate
    ``ewallet worker``: the relay is woken right after commits (``doorbell``) and also
    polls. Its pool is on ``app.state.outbox_pool`` while it runs.
    """
    settings = services.settings
    relay = OutboxRelay(
        services.engine,
        outbox_registry(services),
        services.clock,
        # Unique per app: tests and ``--workers N`` run several embedded relays side by side.
        worker_id=f"{default_worker_id(0)[:50]}-{secrets.token_hex(4)}",
        batch_size=settings.outbox_batch_size,
        max_attempts=settings.outbox_max_attempts,
        concurrency=settings.outbox_concurrency,
    )
    stop = asyncio.Event()
    with doorbell.connected(RelayPool([relay])) as pool:
        app.state.outbox_pool = pool
        task = asyncio.create_task(
            _relay_once_migrated(pool, services.engine, stop, settings.outbox_poll_seconds)
        )
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
    pool: RelayPool, engine: AsyncEngine, stop: asyncio.Event, poll_seconds: float
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
            await pool.run_forever(stop, poll_seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(1.0, poll_seconds))
