"""``ewallet db upgrade|check``."""

from __future__ import annotations

import typer

from ewallet.cli.context import cli_services
from ewallet.models import migrate

db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the newest schema."""
    cli_services(ctx).run(lambda services: migrate.upgrade(services.engine))
    typer.echo(f"database at {migrate.head_revision()}")


@db_app.command("check")
def check(ctx: typer.Context) -> None:
    """Exit non-zero unless the database is at head and matches the models exactly."""
    report = cli_services(ctx).run(lambda services: migrate.check(services.engine))
    typer.echo(f"current: {report.current}  head: {report.head}")
    for difference in report.differences:
        typer.echo(f"drift: {difference}")
    if not report.clean:
        raise typer.Exit(code=1)
    typer.echo("schema clean")
