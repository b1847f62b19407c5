"""The API's lifespan: its services, plus the background work an API process runs.

``create_app`` mounts the development sandboxes (:func:`mount_sandboxes`) and hands
:func:`app_lifespan` to FastAPI. At start-up the lifespan opens the app's
:class:`~ewallet.services.Services` (:func:`~ewallet.bootstrap.root.running_services`,
on ``app.state.services``), then the ledger's upkeep and -- in development, unless
``EWALLET_EMBEDDED_WORKER=false`` -- what ``ewallet worker`` would do: relay the outbox and
settle pending card top-ups and withdrawals, so one process is the whole wallet. At
shutdown it stops them in reverse order.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from fastapi import FastAPI

from ewallet.bills.card_funding.jobs import settle_pending_bill_card_payments
from ewallet.bootstrap.bank import mount_sandbox_bank
from ewallet.bootstrap.biller import mount_sandbox_biller
from ewallet.bootstrap.outbox import OutboxDoorbell, embedded_relay
from ewallet.bootstrap.psp import mount_psp_sandboxes
from ewallet.bootstrap.root import running_services
from ewallet.config import Environment, Settings
from ewallet.funding.jobs import settling_in_background
from ewallet.ledger.upkeep import upkeep_in_background
from ewallet.payments.card_funding.jobs import settle_pending_card_payments
from ewallet.services import Services


def mount_sandboxes(app: FastAPI, settings: Settings) -> None:
    """Mount the in-process sandbox bank, PSPs and biller (development, where no URL is set;
    docs/sandbox.md, docs/psp.md, docs/bills.md)."""
    mount_sandbox_bank(app, settings)
    mount_psp_sandboxes(app, settings)
    mount_sandbox_biller(app, settings)


@asynccontextmanager
async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the app's services and its background work for as long as it serves."""
    settings: Settings = app.state.settings
    doorbell = OutboxDoorbell()
    async with running_services(
        settings, app.state.clock, app=app, wake_outbox=doorbell
    ) as services:
        _expose(app, services)
        if getattr(app.state, "freeze_gc", False):
            # Everything made at start-up (the help index, the dictionary, route tables)
            # lives as long as the process: out of the collector's sight, a full collection
            # takes ~10 ms instead of 120-190 ms (a p99 spike; docs/performance.md).
            gc.collect()
            gc.freeze()
        embedded = settings.env is Environment.DEVELOPMENT and settings.embedded_worker
        async with (
            embedded_relay(services, doorbell, app) if embedded else nullcontext(),
            settling_in_background(
                services, settle_pending_card_payments, settle_pending_bill_card_payments
            )
            if embedded
            else nullcontext(),
            upkeep_in_background(services.ledger, interval=settings.ledger_upkeep_interval_seconds),
        ):
            yield


def _expose(app: FastAPI, services: Services) -> None:
    """``app.state.services``, read by ``ServicesDep`` and ``ewallet.http.deps.app_services``."""
    app.state.services = services
