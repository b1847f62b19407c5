"""Programmatic Alembic: upgrade to head, tell the current revision, check for drift.

It lives with the tables (not in ``kit.db``) because checking for drift compares the
database with every table of :mod:`ewallet.models`; kit imports nothing above itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# Importing this module runs ``ewallet.models`` first, which registers every table on
# ``Base.metadata`` (what :func:`check` compares the database with).
from ewallet.kit.db.base import Base


def migrations_dir() -> Path:
    """The packaged copy in a wheel, else the checkout's ``migrations/``."""
    package_dir = Path(__file__).resolve().parent.parent  # src/ewallet or site-packages/ewallet
    packaged = package_dir / "_migrations"
    if packaged.is_dir():
        return packaged
    return package_dir.parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True, slots=True)
class SchemaReport:
    current: str | None
    head: str | None
    differences: list[str]

    @property
    def clean(self) -> bool:
        return self.current == self.head and not self.differences


def _check(connection: Connection) -> SchemaReport:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    diffs = compare_metadata(context, Base.metadata)
    return SchemaReport(
        current=context.get_current_revision(),
        head=head_revision(),
        differences=[repr(d) for d in diffs],
    )


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def check(engine: AsyncEngine) -> SchemaReport:
    async with engine.connect() as connection:
        return await connection.run_sync(_check)
