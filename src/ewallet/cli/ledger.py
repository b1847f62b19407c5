"""``ewallet ledger verify`` and ``ewallet ledger fold``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ewallet.cli.context import cli_services
from ewallet.ledger.verify import VerifyReport, verify_ledger
from ewallet.services import Services

ledger_app = typer.Typer(no_args_is_help=True, help="The double-entry ledger.")


@ledger_app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check every ledger invariant; exit 1 with a report if any is violated."""
    report = cli_services(ctx).run(lambda services: verify_ledger(services.engine))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "clean": report.clean,
                    "checks_run": report.checks_run,
                    "totals": report.totals,
                    "violations": [
                        {"check": v.check, "meaning": v.meaning, "count": v.count, "rows": v.rows}
                        for v in report.violations
                    ],
                },
                default=str,
                ensure_ascii=False,
            )
        )
    else:
        _print_report(report)
    if not report.clean:
        raise typer.Exit(code=1)


def _print_report(report: VerifyReport) -> None:
    """Plain lines, so the report reads the same in a terminal, a pipe, cron or CI."""
    if report.clean:
        typer.echo(f"ledger clean: {report.checks_run} checks passed")
        return
    typer.echo(f"ledger NOT clean: {len(report.violations)} of {report.checks_run} checks failed")
    for violation in report.violations:
        typer.echo(f"\nFAILED {violation.check} ({violation.count} rows): {violation.meaning}")
        for row in violation.rows[:5]:
            typer.echo(f"  {json.dumps(row, default=str, ensure_ascii=False)}")


async def _fold_all(services: Services) -> int:
    total = 0
    while folded := await services.ledger.fold_balance_deltas():
        total += folded
    return total


@ledger_app.command("fold")
def fold(ctx: typer.Context) -> None:
    """Fold hot accounts' balance deltas into their cached balances now (docs/ledger.md).

    The API processes and the worker do this every EWALLET_LEDGER_UPKEEP_INTERVAL_SECONDS;
    by hand it is useful before a migration downgrade or a database export.
    """
    folded = cli_services(ctx).run(_fold_all)
    typer.echo(f"folded {folded} balance deltas")
