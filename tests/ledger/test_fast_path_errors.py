"""The PostgreSQL fast path's raw driver errors look like SQLAlchemy's to the retry logic."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from ewallet.kit.db.uow import is_retryable
from ewallet.ledger.pg_fast import _driver_errors_as_sqlalchemys


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
