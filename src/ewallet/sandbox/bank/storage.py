"""The sandbox bank's own database: accounts, bindings, agreements, operations, texts sent.

It is another bank, so it never shares the wallet's database or its Alembic history: the
tables are created with ``metadata.create_all`` when the bank first needs them (a test
double whose data may be thrown away; delete the file to reset the balances). The test
cards are seeded with their opening balances only where missing, so balances survive a
restart. Seeding and schema creation are safe to run twice at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.kit.db.base import NAMING_CONVENTION, UTCDateTime
from ewallet.kit.db.engine import READ_ONLY_OPTION, is_sqlite, make_engine
from ewallet.kit.phone import parse_phone
from ewallet.sandbox.bank.cards import TEST_CARDS

metadata = MetaData(naming_convention=NAMING_CONVENTION)

accounts = Table(
    "bank_accounts",
    metadata,
    Column("card_number", String(19), primary_key=True),
    Column("bank_code", String(16), nullable=False),
    Column("bank_name", String(40), nullable=False),
    Column("card_type", String(16), nullable=False),
    Column("holder_name", String(64), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("bank_phone", String(20), nullable=False),  # E.164
    Column("balance_fen", BigInteger, nullable=False),
    Column("behaviour", String(32), nullable=False),
    Column("note", Text, nullable=False),
    CheckConstraint("balance_fen >= 0", name="balance_not_negative"),
)

bindings = Table(
    "bank_bindings",
    metadata,
    Column("request_id", String(128), primary_key=True),
    Column("card_number", ForeignKey("bank_accounts.card_number"), nullable=False),
    Column("code", String(6), nullable=False),
    Column("attempts_left", Integer, nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # pending | confirmed | dead
    Column("agreement_token", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
)

agreements = Table(
    "bank_agreements",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("card_number", ForeignKey("bank_accounts.card_number"), nullable=False),
    Column("status", String(16), nullable=False),  # active | revoked
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

operations = Table(
    "bank_operations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # debit | credit
    Column("agreement_token", String(64), nullable=False),
    Column("card_number", String(19)),
    Column("amount_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # succeeded | declined
    Column("reason", String(64)),
    Column("bank_reference", String(32), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False, index=True),
)

texts = Table(
    "bank_sms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("phone", String(20), nullable=False),
    Column("sender", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("code", String(12)),
    Column("created_at", UTCDateTime(), nullable=False),
)


class BankStore:
    """The engine of the bank's database, created on first use and prepared once."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._engine: AsyncEngine | None = None
        self._prepared = False

    async def prepare(self) -> None:
        """Create the tables and seed the test cards (both idempotent)."""
        if self._prepared:
            return
        engine = self._engine_now()
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await _seed(connection, sqlite_dialect=is_sqlite(engine))
        self._prepared = True

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite); commits on success."""
        await self.prepare()
        async with self._engine_now().begin() as connection:
            yield connection

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """One read-only transaction, which never blocks the bank's writers."""
        await self.prepare()
        engine = self._engine_now().execution_options(**{READ_ONLY_OPTION: True})
        async with engine.connect() as connection:
            yield connection

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._prepared = False

    def _engine_now(self) -> AsyncEngine:
        # Made lazily: an app that never calls the bank never creates its database file.
        if self._engine is None:
            self._engine = make_engine(self._database_url, pool_size=5)
        return self._engine


async def _seed(connection: AsyncConnection, *, sqlite_dialect: bool) -> None:
    rows = [
        {
            "card_number": card.number,
            "bank_code": card.bank_code,
            "bank_name": card.bank_name,
            "card_type": card.card_type,
            "holder_name": card.holder_name,
            "id_number": card.id_number,
            "bank_phone": parse_phone(card.bank_phone),
            "balance_fen": card.opening_balance_fen,
            "behaviour": str(card.behaviour),
            "note": card.note,
        }
        for card in TEST_CARDS
    ]
    insert = sqlite.insert if sqlite_dialect else postgresql.insert
    await connection.execute(
        insert(accounts).values(rows).on_conflict_do_nothing(index_elements=["card_number"])
    )


async def balance_of(connection: AsyncConnection, card_number: str) -> int | None:
    value = await connection.scalar(
        select(accounts.c.balance_fen).where(accounts.c.card_number == card_number)
    )
    return None if value is None else int(value)
