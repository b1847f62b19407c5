"""The sandbox biller's own database: the payments it was told about.

Another company, so never the wallet's database: its one table is created with
``metadata.create_all`` on first use. The wallet's API process and a worker process each
run their own sandbox in development; they share this file (``var/sandbox-biller.db``),
so a payment delivered by the worker is the one the API process's sandbox shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.kit.db.base import NAMING_CONVENTION, UTCDateTime
from ewallet.kit.db.engine import make_engine

metadata = MetaData(naming_convention=NAMING_CONVENTION)

payments = Table(
    "biller_payments",
    metadata,
    Column("reference", String(120), primary_key=True),  # the wallet's, unique per payment
    Column("biller_id", String(32), nullable=False),
    Column("account_no", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("period", String(16), nullable=False),
    Column("confirmation_no", String(32), nullable=False, unique=True),
    Column("received_at", UTCDateTime(), nullable=False),
    # How many notifications carried this reference (the first one included).
    Column("notifications", Integer, nullable=False),
)


class BillerStore:
    """The engine of the biller's database, made on first use and prepared once."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._engine: AsyncEngine | None = None
        self._prepared = False

    async def prepare(self) -> None:
        if self._prepared:
            return
        engine = self._engine_now()
        try:
            async with engine.begin() as connection:
                await connection.run_sync(metadata.create_all)
        except (OperationalError, ProgrammingError):
            # Another process created the table between the check and the CREATE.
            async with engine.begin() as connection:
                await connection.run_sync(metadata.create_all)
        self._prepared = True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        await self.prepare()
        async with self._engine_now().begin() as connection:
            yield connection

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._prepared = False

    def _engine_now(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = make_engine(self._database_url, pool_size=5)
        return self._engine
