"""Migrations from an empty database, both ways, on SQLite and PostgreSQL; ``ewallet db``.

The shared ``database_url`` fixture is migrated already, so these tests make databases of
their own: a new SQLite file, or a new PostgreSQL database dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.cli.main import app
from ewallet.kit.db.base import Base
from ewallet.kit.db.engine import make_engine
from ewallet.models import migrate
from tests.conftest import (
    BACKENDS,
    _asyncpg_dsn,
    _sqlalchemy_url,
    postgres_admin_url,
    postgres_required,
    run_in_thread,
)

HEAD = migrate.head_revision()
MODEL_TABLES = {table.name for table in Base.metadata.sorted_tables}
# How ``migrate.check`` describes an empty database: every table and index is missing.
MISSING_FROM_EMPTY = sorted(
    [f"('add_table', Table({name!r}," for name in MODEL_TABLES]
    + [
        f"('add_index', Index({index.name!r},"
        for table in Base.metadata.sorted_tables
        for index in table.indexes
    ]
)
APPEND_ONLY_TRIGGERS = {
    "sqlite": {
        "ledger_postings_no_update",
        "ledger_postings_no_delete",
        "ledger_transactions_no_update",
        "ledger_transactions_no_delete",
        "audit_events_no_update",
        "audit_events_no_delete",
    },
    "postgresql": {
        "ledger_postings_append_only",
        "ledger_transactions_append_only",
        "audit_events_append_only",
    },
}


async def _admin_execute(admin: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(admin))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _fresh_postgres_database() -> Iterator[str]:
    admin = postgres_admin_url()
    if admin is None:
        if postgres_required():
            pytest.fail("EWALLET_REQUIRE_POSTGRES=1 but EWALLET_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set EWALLET_TEST_POSTGRES_URL)")
    name = f"ewallet_migrations_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        run_in_thread(_admin_execute(admin, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as error:
        if postgres_required():
            pytest.fail(f"PostgreSQL required but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    try:
        yield _sqlalchemy_url(admin, name)
    finally:
        run_in_thread(_admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database no migration ever touched."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield from _fresh_postgres_database()


@pytest.fixture
async def empty_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url, pool_size=1)
    yield engine
    await engine.dispose()


def described(differences: list[str]) -> list[str]:
    """Each difference cut to its kind and object name, e.g. ``('add_table', Table('x',``."""
    return sorted(d[: d.index(",", d.index("(", 2)) + 1] for d in differences)


def _downgrade(connection: Connection, target: str) -> None:
    config = migrate.alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, target)


async def downgrade(engine: AsyncEngine, target: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, target)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def trigger_names(engine: AsyncEngine) -> set[str]:
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    async with engine.connect() as connection:
        return set((await connection.execute(text(sql))).scalars())


async def assert_at_head(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) == HEAD
    report = await migrate.check(engine)
    assert (report.current, report.head, report.differences) == (HEAD, HEAD, [])
    assert report.clean
    assert await table_names(engine) == MODEL_TABLES | {"alembic_version"}
    assert await trigger_names(engine) == APPEND_ONLY_TRIGGERS[engine.dialect.name]


def test_head_is_the_last_revision() -> None:
    assert migrate.head_revision() == HEAD
    assert (migrate.migrations_dir() / "env.py").is_file()


async def test_upgrade_from_empty_to_head(empty_engine: AsyncEngine) -> None:
    assert await migrate.current_revision(empty_engine) is None
    before = await migrate.check(empty_engine)
    assert (before.current, before.head) == (None, HEAD)
    assert not before.clean
    assert described(before.differences) == MISSING_FROM_EMPTY

    await migrate.upgrade(empty_engine)

    await assert_at_head(empty_engine)


async def test_upgrade_at_head_is_a_no_op(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine)
    await migrate.upgrade(empty_engine)
    await assert_at_head(empty_engine)


async def test_downgrade_to_base_and_upgrade_again(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine)

    await downgrade(empty_engine, "0001")
    assert await migrate.current_revision(empty_engine) == "0001"
    assert await trigger_names(empty_engine) == set()
    behind = await migrate.check(empty_engine)
    assert (behind.current, behind.clean) == ("0001", False)

    await downgrade(empty_engine, "base")
    assert await migrate.current_revision(empty_engine) is None
    assert await table_names(empty_engine) == {"alembic_version"}
    if empty_engine.dialect.name == "postgresql":
        async with empty_engine.connect() as connection:
            functions = await connection.execute(
                text("SELECT count(*) FROM pg_proc WHERE proname = 'ledger_append_only'")
            )
            assert functions.scalar_one() == 0

    await migrate.upgrade(empty_engine)
    await assert_at_head(empty_engine)


# -------------------------------------------------------------------------------- CLI


def run_cli(args: list[str], database_url: str, var_dir: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        args,
        env={"EWALLET_DATABASE_URL": database_url, "EWALLET_VAR_DIR": str(var_dir)},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_cli_upgrade_then_check(empty_database_url: str, tmp_path: Path) -> None:
    var_dir = tmp_path / "var"

    code, output = run_cli(["db", "check"], empty_database_url, var_dir)
    assert code == 1, output
    header, *drift = output.splitlines()
    assert header == f"current: None  head: {HEAD}"
    assert all(line.startswith("drift: ") for line in drift)
    assert described([line.removeprefix("drift: ") for line in drift]) == MISSING_FROM_EMPTY
    assert "schema clean" not in output

    code, output = run_cli(["db", "upgrade"], empty_database_url, var_dir)
    assert (code, output) == (0, f"database at {HEAD}\n")

    code, output = run_cli(["db", "check"], empty_database_url, var_dir)
    assert (code, output) == (0, f"current: {HEAD}  head: {HEAD}\nschema clean\n")

    # Running upgrade again changes nothing and still succeeds.
    code, output = run_cli(["db", "upgrade"], empty_database_url, var_dir)
    assert (code, output) == (0, f"database at {HEAD}\n")


def test_cli_check_fails_on_a_database_one_revision_behind(
    empty_database_url: str, tmp_path: Path
) -> None:
    async def prepare() -> None:
        engine = make_engine(empty_database_url, pool_size=1)
        try:
            await migrate.upgrade(engine)
            await downgrade(engine, "0001")
        finally:
            await engine.dispose()

    run_in_thread(prepare())

    code, output = run_cli(["db", "check"], empty_database_url, tmp_path / "var")

    assert code == 1
    assert output.startswith(f"current: 0001  head: {HEAD}\n")
    assert "schema clean" not in output


def test_cli_check_reports_drift_from_the_models(empty_database_url: str, tmp_path: Path) -> None:
    async def prepare() -> None:
        engine = make_engine(empty_database_url, pool_size=1)
        try:
            await migrate.upgrade(engine)
            async with engine.begin() as connection:
                await connection.execute(text("ALTER TABLE outbox_events ADD COLUMN rogue INTEGER"))
        finally:
            await engine.dispose()

    run_in_thread(prepare())

    code, output = run_cli(["db", "check"], empty_database_url, tmp_path / "var")

    assert code == 1, output
    header, drift = output.splitlines()
    assert header == f"current: {HEAD}  head: {HEAD}"
    assert drift.startswith("drift: ('remove_column', None, 'outbox_events', Column('rogue'")
