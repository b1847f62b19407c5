"""``ewallet reconcile --date D``: compare a business day with the bank (and the PSPs).

Draws a progress bar per phase on a terminal, prints the tally (``--json``: the run as
JSON) and exits 1 when something needs a person. Without ``EWALLET_BANK_URL`` it reads the
development sandbox bank's database file; the in-process sandbox PSPs are only reachable
from the API process, so then the run notes that PSP records were not compared (the staff
API, ``POST /v1/staff/reconciliation-runs``, compares them).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from ewallet.audit.service import Actor
from ewallet.cli.context import cli_services
from ewallet.config import Settings
from ewallet.reconciliation.service import run_reconciliation
from ewallet.reconciliation.views import RunView
from ewallet.services import Services


class _Bars:
    """One rich progress bar per phase (hidden when stdout is not a terminal)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def phase(self, label: str, total: int) -> None:
        self._task = self._progress.add_task(label, total=max(total, 1))
        if total == 0:
            self._progress.advance(self._task)

    def step(self) -> None:
        if self._task is not None:
            self._progress.advance(self._task)


def _psp_reachable(settings: Settings) -> bool:
    return settings.psp_alipay_url is not None and settings.psp_wechat_url is not None


async def _reconcile(services: Services, day: date, *, show_progress: bool) -> RunView:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        return await run_reconciliation(
            services,
            Actor.system(),
            day=day,
            compare_psp=_psp_reachable(services.settings),
            progress=_Bars(progress),
        )


def reconcile(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--date", help="Business day YYYY-MM-DD (Beijing time)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON")] = False,
) -> None:
    """Reconcile a business day: settlement file and PSP records against the ledger."""
    try:
        business_day = date.fromisoformat(day)
    except ValueError as error:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--date") from error
    view = cli_services(ctx).run(
        lambda services: _reconcile(services, business_day, show_progress=not as_json)
    )
    counts = view.counts
    if as_json:
        typer.echo(json.dumps(asdict(view), default=str, ensure_ascii=False))
    else:
        typer.echo(
            f"{view.business_day} ({view.id}): matched {counts['matched']}, "
            f"settled {counts['settled']}, mismatches {counts['mismatches']}"
        )
        for category, count in counts["by_category"].items():
            typer.echo(f"  {category}: {count}")
        for note in view.notes:
            typer.echo(f"note: {note}")
    if counts["mismatches"]:
        raise typer.Exit(code=1)
