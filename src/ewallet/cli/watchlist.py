"""``ewallet watchlist load --list NAME FILE.csv [--replace]``, ``ewallet watchlist screen NAME``.

``load`` adds a CSV file's entries to a list (or swaps the list's entries for them with
``--replace``) in one transaction; a bad row refuses the whole file with its line number
(exit code 1, nothing changed). ``screen`` shows what a name would match, recording
nothing. The file's format and the matching rules: docs/risk-watchlist.md.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ewallet.audit.service import Actor
from ewallet.cli.context import cli_services
from ewallet.kit.errors import ValidationFailedError
from ewallet.risk.watchlist import service
from ewallet.risk.watchlist.views import LoadReport, WatchlistMatch
from ewallet.services import Services

watchlist_app = typer.Typer(no_args_is_help=True, help="The risk watch list (load, screen).")


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


@watchlist_app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV: name,date_of_birth,id_number,country,reason")],
    list_name: Annotated[str, typer.Option("--list", help="The list: sanctions, pep, internal...")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Swap the list's entries for the file's.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Load a CSV file into a watch list (all of it or, on a bad row, nothing)."""
    try:
        content = file.read_bytes()
    except OSError as error:
        raise _refuse(f"cannot read {file}: {error.strerror}") from None

    async def use(services: Services) -> LoadReport:
        return await service.load_list(
            services,
            Actor("system", "cli"),
            list_name=list_name,
            file_name=file.name,
            content=content,
            replace=replace,
        )

    try:
        report = cli_services(ctx).run(use)
    except ValidationFailedError as error:
        raise _refuse(error.detail or error.code) from None
    counts = {
        "list": report.list_name,
        "version": report.version,
        "mode": report.mode,
        "added": report.added,
        "removed": report.removed,
        "total": report.total,
    }
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(
            f"watch list {report.list_name!r}: {report.added} added, {report.removed} removed, "
            f"{report.total} in the list (version {report.version})"
        )


@watchlist_app.command("screen")
def screen(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The name to try, as a customer would give it.")],
    born: Annotated[
        str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD (narrows matches).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the matches as JSON.")] = False,
) -> None:
    """Show what a name matches on the watch list (nothing is recorded)."""
    try:
        date_of_birth = None if born is None else date.fromisoformat(born)
    except ValueError:
        raise _refuse(f"--dob {born!r} is not YYYY-MM-DD") from None

    async def use(services: Services) -> list[WatchlistMatch]:
        return await service.try_name(services, name=name, date_of_birth=date_of_birth)

    try:
        matches = cli_services(ctx).run(use)
    except ValidationFailedError as error:
        raise _refuse(error.detail or error.code) from None
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "entry_id": m.entry_id,
                        "list": m.list_name,
                        "name": m.entry_name,
                        "score": m.score,
                        "basis": m.basis,
                    }
                    for m in matches
                ],
                ensure_ascii=False,
            )
        )
        return
    if not matches:
        typer.echo("no match")
        return
    for m in matches:
        typer.echo(f"{m.score:>3}  {m.basis:<9} {m.list_name:<12} {m.entry_name}  ({m.entry_id})")
