"""``ewallet ledger verify``."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ewallet.config import load_settings
from ewallet.kit.db.engine import make_engine
from ewallet.ledger.verify import VerifyReport, verify_ledger

ledger_app = typer.Typer(no_args_is_help=True, help="The double-entry ledger.")


async def _verify(database_url: str) -> VerifyReport:
    engine = make_engine(database_url, pool_size=1)
    try:
        return await verify_ledger(engine)
    finally:
        await engine.dispose()


@ledger_app.command("verify")
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check every ledger invariant; exit 1 with a report if any is violated."""
    report = asyncio.run(_verify(load_settings().database_url))
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
    console = Console()
    if report.clean:
        console.print(f"[green]ledger clean[/green]: {report.checks_run} checks passed")
        return
    table = Table(title="ledger invariant violations")
    table.add_column("check")
    table.add_column("rows", justify="right")
    table.add_column("meaning")
    table.add_column("first rows")
    for violation in report.violations:
        table.add_row(
            violation.check,
            str(violation.count),
            violation.meaning,
            "\n".join(str(row) for row in violation.rows[:3]),
        )
    console.print(table)
