"""``ewallet topups settle`` and ``ewallet withdrawals settle``: settle unknown outcomes now.

The worker runs the same job every ``EWALLET_SETTLE_INTERVAL_SECONDS``; these commands are
for an operator who wants it done at once (after a bank outage, say). Without
``EWALLET_BANK_URL`` they reach the development sandbox bank's own database file.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer

from ewallet.config import Settings, load_settings
from ewallet.funding.settle import SettleReport, settle_pending_topups
from ewallet.funding.withdrawal_settle import WithdrawalSettleReport, settle_pending_withdrawals
from ewallet.integrations.bank.wiring import standalone_bank_gateway
from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine

topups_app = typer.Typer(no_args_is_help=True, help="Top-ups.")
withdrawals_app = typer.Typer(no_args_is_help=True, help="Withdrawals.")

GraceOption = Annotated[
    float | None,
    typer.Option(
        min=0,
        help="Give up on an operation the bank never saw after this many minutes "
        "(default: EWALLET_BANK_UNKNOWN_GRACE_SECONDS).",
    ),
]


def _grace(settings: Settings, grace_minutes: float | None) -> timedelta:
    if grace_minutes is None:
        return timedelta(seconds=settings.bank_unknown_grace_seconds)
    return timedelta(minutes=grace_minutes)


async def _settle_topups(settings: Settings, grace: timedelta) -> SettleReport:
    clock = SystemClock()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with standalone_bank_gateway(settings, clock) as gateway:
            return await settle_pending_topups(engine, clock=clock, gateway=gateway, grace=grace)
    finally:
        await engine.dispose()


async def _settle_withdrawals(settings: Settings, grace: timedelta) -> WithdrawalSettleReport:
    clock = SystemClock()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with standalone_bank_gateway(settings, clock) as gateway:
            return await settle_pending_withdrawals(
                engine, clock=clock, gateway=gateway, grace=grace
            )
    finally:
        await engine.dispose()


@topups_app.command("settle")
def settle_topups(grace_minutes: GraceOption = None) -> None:
    """Ask the bank about every pending card top-up; credit or fail what it knows."""
    settings = load_settings()
    report = asyncio.run(_settle_topups(settings, _grace(settings, grace_minutes)))
    typer.echo(
        f"examined {report.examined}: credited {len(report.credited)}, "
        f"failed {len(report.failed)}, pending {len(report.still_pending)}, "
        f"errors {len(report.errors)}"
    )
    if report.errors:
        raise typer.Exit(code=1)


@withdrawals_app.command("settle")
def settle_withdrawals(grace_minutes: GraceOption = None) -> None:
    """Ask the bank about every pending withdrawal; post or release what it knows."""
    settings = load_settings()
    report = asyncio.run(_settle_withdrawals(settings, _grace(settings, grace_minutes)))
    typer.echo(
        f"examined {report.examined}: succeeded {len(report.succeeded)}, "
        f"failed {len(report.failed)}, pending {len(report.still_pending)}, "
        f"errors {len(report.errors)}"
    )
    if report.errors:
        raise typer.Exit(code=1)
