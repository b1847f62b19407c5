"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with ``synchronous=FULL`` so a committed transfer survives a power
cut, and every write transaction starts with ``BEGIN IMMEDIATE`` so two writers never
deadlock on a lock upgrade; read-only units begin DEFERRED and never block writers.
``EWALLET_SQLITE_SYNCHRONOUS`` may lower the level to ``NORMAL`` or ``OFF`` where that
durability is not wanted: the test suite sets ``OFF``, since a killed process loses nothing
either way and an fsync on a busy CI disk can stall a commit for seconds.
PostgreSQL runs through asyncpg at READ COMMITTED with explicit, ordered row locks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

READ_ONLY_OPTION = "ewallet_read_only"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_LOCK_TIMEOUT = "10s"
SQLITE_SYNCHRONOUS_VARIABLE = "EWALLET_SQLITE_SYNCHRONOUS"
SQLITE_SYNCHRONOUS_LEVELS = frozenset({"FULL", "NORMAL", "OFF"})


def sqlite_synchronous() -> str:
    """The ``PRAGMA synchronous`` level: ``FULL`` unless the environment lowers it."""
    level = os.environ.get(SQLITE_SYNCHRONOUS_VARIABLE, "FULL").strip().upper() or "FULL"
    if level not in SQLITE_SYNCHRONOUS_LEVELS:
        raise ValueError(
            f"{SQLITE_SYNCHRONOUS_VARIABLE} must be one of {sorted(SQLITE_SYNCHRONOUS_LEVELS)}"
        )
    return level


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(database_url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, pool_size=pool_size, echo=echo)
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        echo=echo,
        # No statement waits longer than this for a lock; the unit of work retries the
        # whole unit on the resulting lock_not_available error.
        connect_args={"server_settings": {"lock_timeout": POSTGRES_LOCK_TIMEOUT}},
    )


def _sqlite_engine(database_url: str, *, pool_size: int, echo: bool) -> AsyncEngine:
    url = make_url(database_url)
    database = url.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    synchronous = sqlite_synchronous()
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE is ours to send.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Switching to WAL needs an exclusive lock; it persists in the file, so only the
        # first connection ever has to (others would queue on the lock for nothing).
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        for pragma in (
            f"PRAGMA synchronous={synchronous}",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
