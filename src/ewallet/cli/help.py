"""``ewallet help import [--dir D]`` and ``ewallet help export --dir D``.

Import reads ``<slug>.<locale>.md`` files (the packaged defaults when ``--dir`` is not
given): new slugs become articles, files that differ from an article's current text become
new revisions, identical files change nothing. Export writes every article's current text
in the same format, so export-then-import is a no-op and a folder can live in version
control while staff keep editing in the console.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ewallet.audit.service import Actor
from ewallet.cli.context import cli_services
from ewallet.help import articles
from ewallet.help.importing import service as importing
from ewallet.help.views import ImportReport
from ewallet.services import Services

help_app = typer.Typer(no_args_is_help=True, help="Help articles (Markdown import/export).")


async def _import(services: Services, directory: Path) -> ImportReport:
    sources = articles.read_dir(directory)
    return await importing.import_articles(services, Actor("system", "cli"), articles=sources)


async def _export(services: Services, directory: Path) -> list[Path]:
    return articles.write_dir(directory, await importing.export_articles(services))


@help_app.command("import")
def import_articles(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Folder of <slug>.<locale>.md files (default: packaged)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Create or revise articles from Markdown files; unchanged files change nothing."""
    try:
        report = cli_services(ctx).run(
            lambda services: _import(services, directory or articles.DEFAULT_DIR)
        )
    except articles.ArticleFormatError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    counts = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(
            f"help articles: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged"
        )


@help_app.command("export")
def export_articles(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option("--dir", help="Folder to write the files into.")],
) -> None:
    """Write every article's current text as <slug>.<locale>.md files."""
    written = cli_services(ctx).run(lambda services: _export(services, directory))
    typer.echo(f"wrote {len(written)} files to {directory}")
