"""The PostgreSQL fast path: its statements run on the asyncpg driver inside SQLAlchemy's
transaction, and its driver errors look like SQLAlchemy's to the retry logic."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.db.uow import UnitOfWork, is_retryable
from ewallet.ledger.pg_fast import _driver_errors_as_sqlalchemys, _driver_in_transaction

INSERT_ACCOUNT = (
    "INSERT INTO ledger_accounts (code, kind, currency, normal_side, may_go_negative, posted, "
    "pending_debits, pending_credits, hot, created_at) "
    "VALUES ($1, 'wallet', 'CNY', 'credit', false, 0, 0, 0, false, now())"
)


async def account_exists(engine: AsyncEngine, code: str) -> bool:
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM ledger_accounts WHERE code = :c")
        return bool((await conn.execute(query, {"c": code})).scalar_one())


async def test_the_driver_joins_the_units_transaction(engine: AsyncEngine, backend: str) -> None:
    """What the lock statement relies on: SQLAlchemy's adapter begins the transaction for
    the driver, and the unit of work commits or rolls back what the driver wrote. If a
    SQLAlchemy upgrade drops the adapter's hook, the fast path falls back and this fails."""
    if backend != "postgresql":
        pytest.skip("the asyncpg driver is PostgreSQL's")
    async with UnitOfWork(engine) as uow:
        conn = await uow.connection()
        driver = await _driver_in_transaction(conn)
        assert driver is not None
        assert driver.is_in_transaction()
        txid = await driver.fetchval("SELECT txid_current()")
        assert (await conn.execute(text("SELECT txid_current()"))).scalar_one() == txid
        await driver.execute(INSERT_ACCOUNT, "wallet:kept:CNY")
        await uow.commit()
        assert not driver.is_in_transaction()
    assert await account_exists(engine, "wallet:kept:CNY")

    async with UnitOfWork(engine) as uow:  # left without commit: rolled back
        driver = await _driver_in_transaction(await uow.connection())
        assert driver is not None
        await driver.execute(INSERT_ACCOUNT, "wallet:dropped:CNY")
    assert not await account_exists(engine, "wallet:dropped:CNY")


def test_a_unique_violation_becomes_an_integrity_error() -> None:
    with pytest.raises(IntegrityError) as caught, _driver_errors_as_sqlalchemys("INSERT"):
        raise asyncpg.UniqueViolationError("duplicate key value")
    assert isinstance(caught.value.orig, asyncpg.UniqueViolationError)
    assert not is_retryable(caught.value)  # commit_commands reruns it, run_unit does not


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.SerializationError("could not serialize access"),
        asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
    ],
)
def test_deadlocks_and_lock_timeouts_become_retryable(error: asyncpg.PostgresError) -> None:
    with pytest.raises(DBAPIError) as caught, _driver_errors_as_sqlalchemys("UPDATE"):
        raise error
    assert is_retryable(caught.value)


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError, match="not a database error"), _driver_errors_as_sqlalchemys(""):
        raise ValueError("not a database error")
