"""The periodic job that settles card top-ups and withdrawals left with an unknown outcome.

Every ``EWALLET_SETTLE_INTERVAL_SECONDS`` the worker (and, in development, the API process
itself) asks the bank about each pending item (:mod:`ewallet.funding.settle`,
:mod:`ewallet.funding.withdrawal_settle`). Several copies may run at once: each settling
step is a conditional update plus an idempotent ledger key, so racing runs settle an item
once. A failing run is logged and retried at the next tick; it never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import structlog
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Environment, Settings
from ewallet.funding.settle import SettleReport, settle_pending_topups
from ewallet.funding.withdrawal_settle import WithdrawalSettleReport, settle_pending_withdrawals
from ewallet.http.deps import app_clock, app_settings
from ewallet.integrations.bank.port import BankGateway
from ewallet.kit.clock import Clock
from ewallet.kit.errors import DomainError
from ewallet.ledger import Ledger

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class FundingSettlement:
    topups: SettleReport
    withdrawals: WithdrawalSettleReport


async def settle_funding_once(
    engine: AsyncEngine,
    *,
    clock: Clock,
    gateway: BankGateway,
    ledger: Ledger,
    grace: timedelta,
) -> FundingSettlement:
    """One pass over pending card top-ups and withdrawals."""
    topups = await settle_pending_topups(
        engine, clock=clock, gateway=gateway, ledger=ledger, grace=grace
    )
    withdrawals = await settle_pending_withdrawals(
        engine, clock=clock, gateway=gateway, grace=grace
    )
    return FundingSettlement(topups, withdrawals)


async def settle_periodically(
    engine: AsyncEngine,
    *,
    settings: Settings,
    clock: Clock,
    gateway: BankGateway,
    ledger: Ledger,
    stop: asyncio.Event,
) -> None:
    """Run :func:`settle_funding_once` every interval until ``stop`` is set."""
    interval = settings.settle_interval_seconds
    grace = timedelta(seconds=settings.bank_unknown_grace_seconds)
    while not stop.is_set():
        # Wait first: a process that just started lets its own requests finish settling.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            await settle_funding_once(
                engine, clock=clock, gateway=gateway, ledger=ledger, grace=grace
            )
        except (DomainError, SQLAlchemyError, OSError) as error:
            log.warning("funding.settle_run_failed", error=repr(error))


@contextlib.asynccontextmanager
async def settling_in_background(
    engine: AsyncEngine,
    *,
    settings: Settings,
    clock: Clock,
    gateway: BankGateway,
    ledger: Ledger,
) -> AsyncIterator[None]:
    """Run the settle loop as a task while the block runs (nothing when the interval is 0)."""
    if settings.settle_interval_seconds <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        settle_periodically(
            engine, settings=settings, clock=clock, gateway=gateway, ledger=ledger, stop=stop
        )
    )
    try:
        yield
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def embedded_settling(
    app: FastAPI, engine: AsyncEngine, gateway: BankGateway, ledger: Ledger
) -> contextlib.AbstractAsyncContextManager[None]:
    """In development (with the embedded worker) the API process settles on its own."""
    settings = app_settings(app)
    if settings.env is not Environment.DEVELOPMENT or not settings.embedded_worker:
        return contextlib.nullcontext()
    return settling_in_background(
        engine, settings=settings, clock=app_clock(app), gateway=gateway, ledger=ledger
    )
