"""``ewallet db upgrade|check``."""

from __future__ import annotations

import asyncio

import typer

from ewallet.config import load_settings
from ewallet.kit.db import migrate
from ewallet.kit.db.engine import make_engine

db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")


async def _upgrade(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def _check(database_url: str) -> migrate.SchemaReport:
    engine = make_engine(database_url, pool_size=1)
    try:
        return await migrate.check(engine)
    finally:
        await engine.dispose()


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate the database to the newest schema."""
    settings = load_settings()
    asyncio.run(_upgrade(settings.database_url))
    typer.echo(f"database at {migrate.head_revision()}")


@db_app.command("check")
def check() -> None:
    """Exit non-zero unless the database is at head and matches the models exactly."""
    settings = load_settings()
    report = asyncio.run(_check(settings.database_url))
    typer.echo(f"current: {report.current}  head: {report.head}")
    for difference in report.differences:
        typer.echo(f"drift: {difference}")
    if not report.clean:
        raise typer.Exit(code=1)
    typer.echo("schema clean")
