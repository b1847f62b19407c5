"""``ewallet settlement run --date D`` and ``ewallet settlement settle-open``.

``run`` settles a business day for every merchant and biller (docs/settlement.md): a bar
on a terminal, then a summary (``--json``: the counts as JSON). Rerunning a day is safe:
paid payouts are left alone, open ones are finished from the bank's records, nobody is
paid twice. Exits 1 when a payout is left open or a party failed (run again later).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ewallet.cli.context import cli_services
from ewallet.kit.clock import SystemClock
from ewallet.services import Services
from ewallet.settlement.service import due_day, run_settlement, settle_open_payouts
from ewallet.settlement.views import RunReport

settlement_app = typer.Typer(help="Merchant and biller settlement: daily payouts.")


async def _run(services: Services, day: date, *, show_progress: bool) -> RunReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        task = progress.add_task(f"settling {day}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=max(total, 1))

        return await run_settlement(services, day=day, progress=advance)


def _summary(report: RunReport, as_json: bool) -> None:
    counts = report.counts()
    if as_json:
        typer.echo(json.dumps({"day": report.day.isoformat(), **counts}))
        return
    paid = f"{report.paid_total // 100:,}.{report.paid_total % 100:02d}"
    typer.echo(
        f"{report.day}: {counts['parties']} parties; paid {counts['paid']} (CNY {paid}), "
        f"pending {counts['pending']}, failed {counts['failed']}, carried {counts['carried']}, "
        f"already done {counts['already_done']}, errors {counts['errors']}"
    )


@settlement_app.command("run")
def run(
    ctx: typer.Context,
    day: Annotated[
        str | None,
        typer.Option("--date", help="Business day YYYY-MM-DD (Beijing); default: the due day"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
) -> None:
    """Settle a business day: pay each merchant's and biller's net to its bank account."""
    services = cli_services(ctx)
    if day is None:
        business_day = due_day(SystemClock().now(), services.settings.settlement_delay_days)
    else:
        try:
            business_day = date.fromisoformat(day)
        except ValueError as error:
            raise typer.BadParameter("use YYYY-MM-DD", param_hint="--date") from error
    report = services.run(lambda s: _run(s, business_day, show_progress=not as_json))
    _summary(report, as_json)
    if report.pending or report.errors:
        raise typer.Exit(1)


@settlement_app.command("settle-open")
def settle_open(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
) -> None:
    """Finish payouts left open (a bank timeout, a killed run) from the bank's records."""
    report = cli_services(ctx).run(settle_open_payouts)
    _summary(report, as_json)
    if report.pending or report.errors:
        raise typer.Exit(1)
