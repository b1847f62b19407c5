"""``running_services``: the one place a process opens its adapters, as one ``Services``.

The API's lifespan, every CLI command and ``ewallet worker`` get their
:class:`~ewallet.services.Services` here, so all three run the same use cases on the same
kind of adapters. What is opened, in order (and closed in reverse):

1. the PSP channels -- first, so production's missing PSP keys stop start-up before
   anything is opened;
2. the database engine;
3. the ledger (with group commit when serving the API: concurrent requests' standalone
   ledger commands share commits);
4. the rate limiter (memory, or Redis when ``EWALLET_REDIS_URL`` is set);
5. with an app: the in-process sandbox PSPs mounted on it are stopped at the end, before
   the engine goes (their pending notifications post into the app);
6. the bank gateway and 7. the biller gateway (``bootstrap.bank``/``bootstrap.biller``:
   the real partner, or development's sandbox).

Background work (the outbox relay, the settle loop, the ledger's upkeep) is not started
here: that depends on the process (:mod:`ewallet.bootstrap.lifespan` for the API,
``ewallet worker`` for the worker).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from ewallet.bootstrap.bank import bank_gateway_running
from ewallet.bootstrap.biller import biller_gateway_running
from ewallet.bootstrap.psp import app_psp_sandboxes, psp_channels
from ewallet.config import Settings
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.ledger import Ledger
from ewallet.security.context import SecurityContext
from ewallet.security.ratelimit import RateLimiter
from ewallet.services import Services, no_wakeup


@asynccontextmanager
async def running_services(
    settings: Settings,
    clock: Clock | None = None,
    *,
    app: FastAPI | None = None,
    pool_size: int | None = None,
    wake_outbox: Callable[[], None] = no_wakeup,
) -> AsyncIterator[Services]:
    """Open every adapter for ``settings`` and yield them as one :class:`Services`.

    ``app``: the API being served -- its in-process sandboxes (bank, biller, PSPs) and its
    SecurityContext are used, and the ledger commits in groups. ``pool_size``: database
    connections (default ``EWALLET_DB_POOL_SIZE``). ``wake_outbox``: what services call
    after a commit to wake this process's relay (:class:`~ewallet.bootstrap.outbox.
    OutboxDoorbell` where one runs).

    Refusals come from the adapters at start: e.g. production without a bank URL
    (``BankConfigurationError``) or without a configured PSP's keys
    (``PspConfigurationError``).
    """
    clock = clock or SystemClock()
    psp = psp_channels(settings, clock, app=app)
    security = app.state.security if app is not None else SecurityContext.from_settings(settings)
    async with AsyncExitStack() as stack:
        engine = make_engine(
            settings.database_url,
            pool_size=pool_size or settings.db_pool_size,
            echo=settings.db_echo,
        )
        stack.push_async_callback(engine.dispose)
        ledger = Ledger(
            engine,
            clock=clock,
            group_commit=app is not None,
            max_batch=settings.ledger_batch_max,
            flushers=settings.ledger_flushers,
        )
        await ledger.start()
        stack.push_async_callback(ledger.aclose)
        limiter = RateLimiter.from_settings(settings, clock=clock)
        stack.push_async_callback(limiter.aclose)
        if (sandboxes := app_psp_sandboxes(app)) is not None:
            stack.push_async_callback(sandboxes.aclose)
        bank = await stack.enter_async_context(bank_gateway_running(settings, clock, app=app))
        biller = await stack.enter_async_context(biller_gateway_running(settings, clock, app=app))
        yield Services(
            settings=settings,
            clock=clock,
            engine=engine,
            ledger=ledger,
            security=security,
            limiter=limiter,
            bank=bank,
            biller=biller,
            psp=psp,
            wake_outbox=wake_outbox,
        )
