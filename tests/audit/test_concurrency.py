"""Concurrent appenders extend one chain: the head row lock orders them, nothing forks."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.audit.verify import verify_audit_chain
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from tests.fixtures.staff import events_table

WRITERS = 20


async def test_parallel_appends_make_one_unbroken_chain(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    start = asyncio.Event()

    async def append(n: int) -> int:
        async def work(uow: UnitOfWork) -> int:
            return await record_event(
                await uow.connection(),
                clock=clock,
                actor=Actor("staff", f"stf_{n}"),
                action="test.parallel",
                details={"writer": n},
            )

        await start.wait()
        return await run_unit(audit_engine, work)

    tasks = [asyncio.create_task(append(n)) for n in range(WRITERS)]
    await asyncio.sleep(0.05)  # every writer is waiting on the same start line
    start.set()
    ids = await asyncio.gather(*tasks)

    assert sorted(ids) == list(range(1, WRITERS + 1))
    report = await verify_audit_chain(audit_engine)
    assert report.clean, report.problems
    assert report.events_checked == WRITERS
    async with audit_engine.connect() as conn:
        writers = (await conn.execute(select(events_table.c.details))).scalars().all()
    assert sorted(d["writer"] for d in writers) == list(range(WRITERS))
