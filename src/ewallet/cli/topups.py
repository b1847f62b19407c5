"""``ewallet topups settle`` and ``ewallet withdrawals settle``: settle unknown outcomes now.

The worker runs the same job every ``EWALLET_SETTLE_INTERVAL_SECONDS``; these commands are
for an operator who wants it done at once (after a bank outage, say). Without
``EWALLET_BANK_URL`` they reach the development sandbox bank's own database file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from ewallet.cli.context import cli_services
from ewallet.config import Settings
from ewallet.funding.topups.card.jobs import settle_pending_topups
from ewallet.funding.withdrawals.jobs import settle_pending_withdrawals

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


@topups_app.command("settle")
def settle_topups(ctx: typer.Context, grace_minutes: GraceOption = None) -> None:
    """Ask the bank about every pending card top-up; credit or fail what it knows."""
    cli = cli_services(ctx)
    grace = _grace(cli.settings, grace_minutes)
    report = cli.run(lambda services: settle_pending_topups(services, grace=grace))
    typer.echo(
        f"examined {report.examined}: credited {len(report.credited)}, "
        f"failed {len(report.failed)}, pending {len(report.still_pending)}, "
        f"errors {len(report.errors)}"
    )
    if report.errors:
        raise typer.Exit(code=1)


@withdrawals_app.command("settle")
def settle_withdrawals(ctx: typer.Context, grace_minutes: GraceOption = None) -> None:
    """Ask the bank about every pending withdrawal; post or release what it knows."""
    cli = cli_services(ctx)
    grace = _grace(cli.settings, grace_minutes)
    report = cli.run(lambda services: settle_pending_withdrawals(services, grace=grace))
    typer.echo(
        f"examined {report.examined}: succeeded {len(report.succeeded)}, "
        f"failed {len(report.failed)}, pending {len(report.still_pending)}, "
        f"errors {len(report.errors)}"
    )
    if report.errors:
        raise typer.Exit(code=1)
