"""``ewallet aml export --date D [--format csv|xml] [--out DIR]`` and ``ewallet aml collect``.

``export`` collects the Beijing business day's large-value transactions, then writes the
day's report (docs/aml-reports.md) to ``DIR/aml-report-D.<format>`` and prints the file's
path and SHA-256. The export is recorded and audited (``aml.exported``, actor
``system:cli``) like one made through the staff API. ``collect`` only writes the day's
candidates (default: yesterday), for a scheduler. A malformed or future date exits 2 and
changes nothing.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from ewallet.audit.service import Actor
from ewallet.cli.context import cli_services
from ewallet.kit.clock import SystemClock
from ewallet.kit.errors import ValidationFailedError
from ewallet.models.aml import ExportFormat
from ewallet.risk.aml.service import collect_large_value, export_day
from ewallet.risk.limits import CHINA_TIME

aml_app = typer.Typer(help="Anti-money-laundering reports: large-value and suspicious.")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--date") from error


@aml_app.command("export")
def export(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--date", help="Business day YYYY-MM-DD (Beijing)")],
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help="csv (UTF-8 with BOM) or xml")
    ] = ExportFormat.CSV,
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the file to", file_okay=False)
    ] = Path("."),
) -> None:
    """Write a day's report (large-value reports and suspicious candidates) to a file."""
    business_day = _day(day)
    services = cli_services(ctx)
    try:
        exported = services.run(
            lambda s: export_day(
                s, Actor("system", "cli"), day=business_day, export_format=export_format
            )
        )
    except ValidationFailedError as error:
        raise typer.BadParameter(str(error), param_hint="--date") from error
    out.mkdir(parents=True, exist_ok=True)
    path = out / exported.filename
    path.write_bytes(exported.content)
    typer.echo(
        f"{path}  sha256 {exported.sha256}  large-value {exported.large_value_count}, "
        f"suspicious {exported.suspicious_count}, transactions {exported.transaction_count}"
    )


@aml_app.command("collect")
def collect(
    ctx: typer.Context,
    day: Annotated[
        str | None,
        typer.Option("--date", help="Business day YYYY-MM-DD (Beijing); default: yesterday"),
    ] = None,
) -> None:
    """Write a day's large-value candidates (idempotent); print the counts as JSON."""
    if day is None:
        business_day = SystemClock().now().astimezone(CHINA_TIME).date() - timedelta(days=1)
    else:
        business_day = _day(day)
    services = cli_services(ctx)
    try:
        result = services.run(lambda s: collect_large_value(s, business_day))
    except ValidationFailedError as error:
        raise typer.BadParameter(str(error), param_hint="--date") from error
    typer.echo(
        json.dumps(
            {
                "date": business_day.isoformat(),
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
        )
    )
