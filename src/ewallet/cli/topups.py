"""``ewallet topups settle``: settle pending card top-ups by querying the bank."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer

from ewallet.config import Settings, load_settings
from ewallet.funding.settle import SettleReport, settle_pending_topups
from ewallet.integrations.bank.errors import BankConfigurationError
from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.integrations.bank.wiring import bank_key
from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine

topups_app = typer.Typer(no_args_is_help=True, help="Top-ups.")


async def _settle(settings: Settings, grace_minutes: float) -> SettleReport:
    if settings.bank_url is None:
        # The embedded sandbox bank lives inside the running server; settle from there.
        raise BankConfigurationError("set EWALLET_BANK_URL to settle from the command line")
    clock = SystemClock()
    engine = make_engine(settings.database_url, pool_size=1)
    gateway = HttpBankGateway(
        base_url=settings.bank_url,
        key=bank_key(settings),
        timeout=settings.bank_timeout_seconds,
        clock=clock,
    )
    try:
        return await settle_pending_topups(
            engine, clock=clock, gateway=gateway, grace=timedelta(minutes=grace_minutes)
        )
    finally:
        await gateway.aclose()
        await engine.dispose()


@topups_app.command("settle")
def settle(
    grace_minutes: Annotated[
        float, typer.Option(min=0, help="Fail a debit the bank never saw after this long")
    ] = 30.0,
) -> None:
    """Ask the bank about every pending card top-up; credit or fail what it knows."""
    report = asyncio.run(_settle(load_settings(), grace_minutes))
    typer.echo(
        f"examined {report.examined}: credited {len(report.credited)}, "
        f"failed {len(report.failed)}, pending {len(report.still_pending)}, "
        f"errors {len(report.errors)}"
    )
    if report.errors:
        raise typer.Exit(code=1)
