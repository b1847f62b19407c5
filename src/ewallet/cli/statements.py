"""``ewallet statements export``: monthly statements written to files, with a progress bar."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ewallet.cli.context import cli_services
from ewallet.history.service import build_statement, render_statement, users_with_activity
from ewallet.history.views import Month
from ewallet.kit.errors import DomainError
from ewallet.services import Services

statements_app = typer.Typer(no_args_is_help=True, help="Monthly wallet statements.")

Format = Literal["csv", "pdf"]


async def export_statements(
    services: Services,
    *,
    month: Month,
    user_ids: list[str] | None,
    out: Path,
    formats: tuple[Format, ...],
    progress: Progress | None = None,
) -> list[Path]:
    """Write the statements of ``user_ids`` (None: every wallet with money by then)."""
    written: list[Path] = []
    ids = user_ids if user_ids is not None else await users_with_activity(services, month)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    task = progress.add_task(f"statements {month}", total=len(ids)) if progress else None
    for user_id in ids:
        statement = await build_statement(services, user_id, month=month)
        for fmt in formats:
            path = out / f"statement-{month}-{user_id}.{fmt}"
            data = render_statement(statement, fmt).content
            await asyncio.to_thread(path.write_bytes, data)
            written.append(path)
        if progress is not None and task is not None:
            progress.advance(task)
    return written


@statements_app.command("export")
def export(
    ctx: typer.Context,
    *,
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM (Asia/Shanghai).")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the files to.")],
    user: Annotated[
        list[str] | None, typer.Option("--user", help="A user id; repeat for several.")
    ] = None,
    all_users: Annotated[
        bool, typer.Option("--all", help="Every wallet that held money by the month's end.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="csv, pdf, or both (csv,pdf).")] = "csv,pdf",
) -> None:
    """Write each user's statement for a month as CSV and/or PDF files."""
    if bool(user) == all_users:
        raise typer.BadParameter("give --user ID (one or more) or --all")
    chosen = tuple(part.strip() for part in fmt.split(",") if part.strip())
    if not chosen or any(part not in ("csv", "pdf") for part in chosen):
        raise typer.BadParameter("--format is csv, pdf or csv,pdf")
    formats: tuple[Format, ...] = tuple("pdf" if part == "pdf" else "csv" for part in chosen)
    try:
        parsed = Month.parse(month)
    except DomainError as error:
        raise typer.BadParameter(str(error)) from None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=False) as progress:
        written = cli_services(ctx).run(
            lambda services: export_statements(
                services,
                month=parsed,
                user_ids=list(user) if user else None,
                out=out,
                formats=formats,
                progress=progress,
            )
        )
    typer.echo(f"{len(written)} file(s) written to {out}")
