"""``ewallet demo seed [--json]``: demo users, merchants and four weeks of history.

For ``make serve`` users who want to see a living wallet: it prints the demo phones, the
login password and PIN, and each merchant's API key. Development only -- it refuses to
run with ``EWALLET_ENV=production``. Safe to run again: nothing is duplicated (merchant
keys are re-issued, since only their digests are stored).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer

from ewallet.cli.context import cli_services
from ewallet.config import Environment, Settings
from ewallet.demo.seed import SeedReport, seed_demo
from ewallet.kit.logging import configure_logging

demo_app = typer.Typer(no_args_is_help=True, help="Demo data for development.")


def run_seed(settings: Settings, *, as_json: bool = False) -> SeedReport:
    """Seed ``settings.database_url`` and print the result (shared with ``serve --demo``)."""
    if settings.env is Environment.PRODUCTION:
        typer.echo("demo data is for development only: EWALLET_ENV=production", err=True)
        raise typer.Exit(code=2)
    # The in-process API logs every request; only warnings, and on stderr, keep stdout
    # for the result (``--json`` is read by scripts).
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}), stream=sys.stderr)
    report = asyncio.run(seed_demo(settings))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print_report(report)
    if not report.ledger_clean:
        typer.echo("the ledger is not clean after seeding: run `ewallet ledger verify`", err=True)
        raise typer.Exit(code=1)
    return report


def print_report(report: SeedReport) -> None:
    summary = report.as_dict()
    typer.echo("Demo data is loaded. Users (the same login password and PIN for all):")
    typer.echo(f"  login password:   {summary['login_password']}")
    typer.echo(f"  payment password: {summary['payment_password']}")
    for user in summary["users"]:
        card = f"card *{user['card_last_four']}" if user["card_last_four"] else "no card"
        name = user["real_name"] or "(not verified)"
        state = "created" if user["created"] else "already there"
        typer.echo(f"  {user['phone']}  {name}  class {user['tier']}  {card}  [{state}]")
    typer.echo("Demo merchants (API keys re-issued on every run):")
    for merchant in summary["merchants"]:
        wallet = "" if merchant["accepts_wallet"] else "  (does not accept the wallet)"
        typer.echo(f"  {merchant['name']}  {merchant['id']}{wallet}")
        typer.echo(f"    API key: {merchant['api_key']}")
    if summary["activity"]:
        made = ", ".join(f"{count} {name}" for name, count in summary["activity"].items())
        typer.echo(f"History of the last four weeks: {made}")
    else:
        typer.echo("No new history: every demo user already existed.")
    typer.echo("ledger clean" if report.ledger_clean else "ledger NOT clean")


@demo_app.command("seed")
def seed(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create demo users, merchants and four weeks of history (idempotent)."""
    run_seed(cli_services(ctx).settings, as_json=as_json)
