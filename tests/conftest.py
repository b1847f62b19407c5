"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

SQLite: a file migrated once per run, copied fresh for each test.
PostgreSQL (``EWALLET_TEST_POSTGRES_URL``): a new database per run, migrated once, emptied
before each test and dropped at the end; with ``EWALLET_REQUIRE_POSTGRES=1`` a missing
server fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import coredis
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import GENESIS_HASH
from ewallet.config import Settings
from ewallet.kit.db.base import Base
from ewallet.kit.db.engine import make_engine
from ewallet.models.migrate import upgrade

# The suite's SQLite files need no durability against a power cut (kit/db/engine.py); set
# before any engine exists, and inherited by the API processes tests start.
os.environ.setdefault("EWALLET_SQLITE_SYNCHRONOUS", "OFF")

# Tests' HTTP clients wait up to 30 s where they name no timeout (httpx's default is 5 s):
# under make test's two workers on CI's two cores, a live server in this process can be
# held up behind the other worker (browser tests) for longer than that. A client that
# names its own timeout keeps it, so no timeout behaviour under test changes.
PATIENT_TIMEOUT = 30.0


def _patient(init: Any) -> Any:
    @functools.wraps(init)
    def with_timeout(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", PATIENT_TIMEOUT)
        init(self, *args, **kwargs)

    return with_timeout


httpx.Client.__init__ = _patient(httpx.Client.__init__)  # type: ignore[method-assign]
httpx.AsyncClient.__init__ = _patient(httpx.AsyncClient.__init__)  # type: ignore[method-assign]

BACKENDS = ("sqlite", "postgresql")
T = TypeVar("T")


def postgres_admin_url() -> str | None:
    return os.environ.get("EWALLET_TEST_POSTGRES_URL") or None


def postgres_required() -> bool:
    return os.environ.get("EWALLET_REQUIRE_POSTGRES") == "1"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _sqlalchemy_url(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql+asyncpg", database=database)
    return parsed.render_as_string(hide_password=False)


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run set-up on a loop of its own: session fixtures may be reached from a test's loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


async def _migrate(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ewallet.db"
    run_in_thread(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    admin = postgres_admin_url()
    if admin is None:
        if postgres_required():
            pytest.fail("EWALLET_REQUIRE_POSTGRES=1 but EWALLET_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set EWALLET_TEST_POSTGRES_URL)")
    name = f"ewallet_test_{os.getpid()}_{secrets.token_hex(4)}"

    async def create() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(admin))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
            # A test database needs no durability against a crash of the machine: commits
            # that wait for no WAL flush keep a busy CI disk from stalling tests.
            await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(admin))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    try:
        run_in_thread(create())
    except (OSError, asyncpg.PostgresError) as error:
        if postgres_required():
            pytest.fail(f"PostgreSQL required but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    url = _sqlalchemy_url(admin, name)
    run_in_thread(_migrate(url))
    yield url
    run_in_thread(drop())


_EMPTYING: dict[str, str] = {}


async def _emptying_script(connection: asyncpg.Connection) -> str:
    """One round trip that empties every table and restarts every sequence.

    DELETE, not TRUNCATE: a test leaves a few rows behind, and deleting them costs
    milliseconds where truncating 60-odd tables (a new file for each) costs a quarter of a
    second. ``session_replication_role = replica`` skips the foreign keys' and the
    append-only triggers for this transaction only (the test role is a superuser).
    """
    sequences = [
        row[0]
        for row in await connection.fetch(
            "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) "
            "FROM information_schema.sequences"
        )
    ]
    return "".join(
        [
            "BEGIN; SET LOCAL session_replication_role = replica; ",
            *(f'DELETE FROM "{table.name}"; ' for table in Base.metadata.sorted_tables),
            *(f"ALTER SEQUENCE {sequence} RESTART; " for sequence in sequences),
            # Rows the migrations seed come back, as in a freshly migrated database.
            "INSERT INTO audit_chain_head (id, last_event_id, last_hash) ",
            f"VALUES (1, 0, '{GENESIS_HASH}'); COMMIT;",
        ]
    )


async def _truncate_all(url: str) -> None:
    """Empty the PostgreSQL test database at ``url`` as a fresh migration leaves it."""
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        if url not in _EMPTYING:
            _EMPTYING[url] = await _emptying_script(connection)
        await connection.execute(_EMPTYING[url])
    finally:
        await connection.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "ewallet.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    await _truncate_all(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=40)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        secret_key=SecretStr("test-secret-key-" + "x" * 32),
        pin_pepper=SecretStr("test-pin-pepper-" + "y" * 32),
        log_json=True,
        # Tests settle unknown outcomes when they choose to (test_settle_job runs the job),
        # and fold hot accounts' deltas likewise: a background fold would move cached
        # balances under the "nothing changed" snapshots (test_hot_accounts runs the loop).
        settle_interval_seconds=0,
        ledger_upkeep_interval_seconds=0,
    )


# Redis: a URL with a key prefix of its own (db 15); skipped without a Redis on
# 127.0.0.1:6379 unless EWALLET_REQUIRE_REDIS=1 (CI), which fails instead; keys deleted after.
REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client: coredis.Redis[bytes] = coredis.Redis.from_url(REDIS_TEST_URL)
    try:
        await client.ping()
    except (coredis.exceptions.RedisError, OSError) as error:
        client.connection_pool.disconnect()
        if os.environ.get("EWALLET_REQUIRE_REDIS") == "1":
            pytest.fail(f"EWALLET_REQUIRE_REDIS=1 but no Redis on 127.0.0.1:6379: {error}")
        pytest.skip(f"no Redis on 127.0.0.1:6379: {error}")
    prefix = f"ewallet-test-{secrets.token_hex(6)}:"
    yield f"{REDIS_TEST_URL}?key_prefix={prefix}"
    keys: list[str | bytes] = [key async for key in client.scan_iter(match=f"*{prefix}*")]
    if keys:
        await client.delete(keys)
    client.connection_pool.disconnect()
