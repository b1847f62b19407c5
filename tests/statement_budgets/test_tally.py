"""The tally counts what runs, and only that: a statement, a transaction, a statement the
ledger sends on the driver, the shared maintenance read set apart, and nothing while the
app is idle (no background loop runs in the budgets' app)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import select, text

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.tables import users
from ewallet.ops.service import schedule_of
from tests.fixtures.statement_tally import tallied
from tests.statement_budgets.conftest import Counting

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_an_idle_app_sends_no_statement(counting: Counting) -> None:
    with tallied(counting.services.engine) as tally:
        await asyncio.sleep(1.2)  # longer than the relay's poll and the maintenance cache
    assert (tally.statements, tally.driver, tally.transactions) == ([], [], 0), tally.report()


async def test_a_unit_of_work_is_one_transaction_and_its_statements(counting: Counting) -> None:
    """On PostgreSQL the unit also sends two statements on the driver, as the ledger does."""
    engine = counting.services.engine
    postgres = counting.dialect == "postgresql"

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await conn.execute(select(users.c.id).limit(1))
        await conn.execute(text("SELECT 1"))
        if postgres:
            driver = (await conn.get_raw_connection()).driver_connection
            assert isinstance(driver, asyncpg.Connection)
            await driver.fetch("SELECT 2")
            await driver.execute("SELECT 3")

    with tallied(engine) as tally:
        await run_unit(engine, work)
    begin = [] if postgres else ["BEGIN IMMEDIATE"]
    assert tally.statements == [*begin, "SELECT users.id", "SELECT 1"], tally.report()
    assert tally.driver == (["SELECT 2", "SELECT 3"] if postgres else []), tally.report()
    assert (tally.transactions, tally.commits) == (1, 1), tally.report()


async def test_the_maintenance_schedules_shared_read_is_not_counted(counting: Counting) -> None:
    engine = counting.services.engine
    schedule = schedule_of(engine)
    schedule.invalidate()
    with tallied(engine) as tally:
        await schedule.windows(engine, counting.clock)
    assert (tally.statements, tally.transactions, tally.commits) == ([], 0, 0), tally.report()
    assert tally.shared[-1].startswith("SELECT maintenance_windows."), tally.shared
