"""The locking helpers take the weak locks the global lock order names, and a deadlock is loud.

``FOR UPDATE`` on a user's row made every insert pointing at that user (a notice, a
payment, a spend record) wait for the holder -- the wait that closed the cycle of two
opposite transfers. ``locked_user`` now takes ``FOR NO KEY UPDATE``, which keeps other
writers out but lets those inserts through; the PostgreSQL test shows it on a real row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Select, Table, insert, select, text, update
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.identity.guards import locked_user
from ewallet.identity.repository import find_by_phone, get_user
from ewallet.kit.db.locking import for_share, locked_select
from ewallet.kit.db.uow import UnitOfWork, retry_reason, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.identity import Notification, User
from ewallet.models.ledger import LedgerHold
from tests.fixtures.serving import LogLines, log_lines, plain_settings

__all__ = ["log_lines", "plain_settings"]

users = cast(Table, User.__table__)
notifications = cast(Table, Notification.__table__)
holds = cast(Table, LedgerHold.__table__)
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def postgres_sql(statement: Select[Any]) -> str:
    dialect = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
    return str(statement.compile(dialect=dialect))


def test_the_helpers_emit_the_weak_locks() -> None:
    assert postgres_sql(locked_select(holds, ["b", "a"])).endswith(
        "ORDER BY ledger_holds.id FOR NO KEY UPDATE"
    )
    assert "FOR" not in postgres_sql(locked_select(holds, ["a"], lock=False))
    assert postgres_sql(for_share(select(users.c.id))).endswith("FOR SHARE")


async def _add_user(engine: AsyncEngine, phone: str) -> str:
    user_id = new_id("usr")
    async with engine.begin() as conn:
        await conn.execute(
            insert(users).values(
                id=user_id,
                phone=phone,
                status="active",
                tier=1,
                locale="zh-CN",
                login_password_hash="x",
                login_password_changed_at=NOW,
                login_failures=0,
                payment_failures=0,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return user_id


async def _insert_notice_while_locked(engine: AsyncEngine, user_id: str) -> None:
    """Insert a notice for ``user_id`` on another connection, giving up after 2 s of waiting."""
    async with engine.begin() as other:
        await other.execute(text("SET LOCAL lock_timeout = '2s'"))
        await other.execute(
            insert(notifications).values(
                id=new_id("ntf"),
                user_id=user_id,
                kind="transfer_received",
                params={},
                created_at=NOW,
                read_at=None,
                is_security=False,
            )
        )


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_locked_user_still_takes_references(engine: AsyncEngine) -> None:
    user_id = await _add_user(engine, "+8613800000011")
    async with UnitOfWork(engine) as uow:
        await locked_user(uow, user_id)
        await _insert_notice_while_locked(engine, user_id)  # FOR UPDATE: lock_timeout here
        await uow.rollback()
    async with UnitOfWork(engine) as uow:
        assert await get_user(uow.session, user_id, for_update=True) is not None
        assert await find_by_phone(uow.session, "+8613800000011", for_update=True) is not None
        await _insert_notice_while_locked(engine, user_id)
        await uow.rollback()


async def _update_while_locked(engine: AsyncEngine, user_id: str) -> None:
    async with engine.begin() as other:
        await other.execute(text("SET LOCAL lock_timeout = '200ms'"))
        await other.execute(update(users).where(users.c.id == user_id).values(tier=2))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_locked_user_still_keeps_writers_out(engine: AsyncEngine) -> None:
    user_id = await _add_user(engine, "+8613800000012")
    async with UnitOfWork(engine) as uow:
        await locked_user(uow, user_id)
        with pytest.raises(DBAPIError) as waited:
            await _update_while_locked(engine, user_id)
        assert retry_reason(waited.value) == "lock_timeout"
        await uow.rollback()


class _Deadlock(Exception):  # noqa: N818 -- shaped like the driver's error
    sqlstate = "40P01"


def _retries(reason: str) -> float:
    value = REGISTRY.get_sample_value("ewallet_db_unit_retries_total", {"reason": reason})
    return value or 0.0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_deadlock_is_rerun_counted_and_logged_as_an_error(
    engine: AsyncEngine, log_lines: LogLines
) -> None:
    calls: list[int] = []

    async def work(uow: UnitOfWork) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise DBAPIError("SELECT 1", None, _Deadlock("deadlock detected"))
        return "done"

    before = _retries("deadlock")
    assert await run_unit(engine, work) == "done"
    assert len(calls) == 2
    assert _retries("deadlock") == before + 1
    loud = [line for line in log_lines() if line.get("event") == "db.deadlock"]
    assert len(loud) == 1
    assert loud[0]["level"] == "error"
    assert "deadlock detected" in loud[0]["detail"]
