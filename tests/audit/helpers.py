"""Write a real audit chain, and tamper with it the way an intruder with SQL access would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.engine import is_sqlite
from ewallet.kit.db.uow import UnitOfWork, run_unit

PG_TRIGGER = "audit_events_append_only"


async def write_chain(engine: AsyncEngine, clock: FrozenClock, *, transactions: int = 3) -> None:
    """Two events per transaction, in several transactions, with varied content."""
    for n in range(transactions):

        async def work(uow: UnitOfWork, n: int = n) -> None:
            conn = await uow.connection()
            for k in range(2):
                clock.advance(timedelta(seconds=1, microseconds=123))
                details: dict[str, Any] = {
                    "n": 2 * n + k,
                    "note": "冻结 ✓",
                    "nested": {"b": [1, 2]},
                }
                await record_event(
                    conn,
                    clock=clock,
                    actor=Actor("staff", f"stf_{n}", "10.0.0.1") if k else Actor.system(),
                    action=f"test.step{k}",
                    subject_type="user",
                    subject_id=f"usr_{n}",
                    details=details,
                )

        await run_unit(engine, work)


@asynccontextmanager
async def tampering(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction in which the append-only triggers are off; they are back afterwards."""
    async with engine.begin() as conn:
        if is_sqlite(engine):
            triggers = (
                await conn.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master "
                        "WHERE type = 'trigger' AND tbl_name = 'audit_events'"
                    )
                )
            ).all()
            assert len(triggers) == 2
            for trigger in triggers:
                await conn.execute(text(f'DROP TRIGGER "{trigger.name}"'))
            try:
                yield conn
            finally:
                for trigger in triggers:
                    await conn.execute(text(trigger.sql))
        else:
            await conn.execute(text(f"ALTER TABLE audit_events DISABLE TRIGGER {PG_TRIGGER}"))
            try:
                yield conn
            finally:
                await conn.execute(text(f"ALTER TABLE audit_events ENABLE TRIGGER {PG_TRIGGER}"))
