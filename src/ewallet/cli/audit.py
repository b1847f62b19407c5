"""``ewallet audit verify [--json]``: exit 1 naming the first broken event."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ewallet.audit.verify import AuditReport, verify_audit_chain
from ewallet.cli.context import cli_services

audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Re-hash and link every audit event; exit 1 if any was edited, deleted or added."""
    report = cli_services(ctx).run(lambda services: verify_audit_chain(services.engine))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_report(report)
    if not report.clean:
        raise typer.Exit(code=1)


def _print_report(report: AuditReport) -> None:
    """Plain lines, so the report reads the same in a terminal, a pipe, cron or CI."""
    first = report.first_broken
    if first is None:
        typer.echo(
            f"audit chain clean: {report.events_checked} events, "
            f"head at event {report.last_event_id} ({report.last_hash})"
        )
        return
    typer.echo(f"audit chain BROKEN at event {first.event_id}: {first.message}")
    typer.echo(f"{report.events_checked} events read, {len(report.problems)} problem(s):")
    for problem in sorted(report.problems, key=lambda p: p.event_id):
        typer.echo(f"  event {problem.event_id} [{problem.kind}] {problem.message}")
