"""``verify_audit_chain`` finds every edited, deleted or added event and names the first one.

Each case writes six events through ``record_event`` in three transactions, switches the
append-only triggers off (as an intruder with SQL access could), tampers, switches them
back on, and checks that the report names exactly the event concerned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import GENESIS_HASH, event_content, event_hash
from ewallet.audit.verify import verify_audit_chain
from ewallet.kit.clock import FrozenClock
from tests.audit.helpers import tampering, write_chain
from tests.fixtures.staff import events_table, head_table

Tamper = Callable[[AsyncConnection], Awaitable[None]]
events: Table = events_table


async def _row(conn: AsyncConnection, event_id: int) -> Any:
    return (await conn.execute(select(events).where(events.c.id == event_id))).one()


def _content(row: Any, **changes: Any) -> dict[str, Any]:
    values = {
        "event_id": row.id,
        "occurred_at": row.occurred_at,
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "ip": row.ip,
        "request_id": row.request_id,
        "details": row.details,
    }
    values.update(changes)
    return event_content(**values)


async def edit_details(conn: AsyncConnection) -> None:
    await conn.execute(update(events).where(events.c.id == 3).values(details={"n": 99}))


async def edit_action(conn: AsyncConnection) -> None:
    await conn.execute(update(events).where(events.c.id == 1).values(action="test.innocent"))


async def edit_time(conn: AsyncConnection) -> None:
    row = await _row(conn, 4)
    earlier = row.occurred_at - timedelta(days=1)
    await conn.execute(update(events).where(events.c.id == 4).values(occurred_at=earlier))


async def edit_actor_and_rehash(conn: AsyncConnection) -> None:
    row = await _row(conn, 3)
    forged = event_hash(row.prev_hash, _content(row, actor_id="stf_someone_else"))
    await conn.execute(
        update(events).where(events.c.id == 3).values(actor_id="stf_someone_else", hash=forged)
    )


async def delete_middle(conn: AsyncConnection) -> None:
    await conn.execute(delete(events).where(events.c.id == 3))


async def delete_first(conn: AsyncConnection) -> None:
    await conn.execute(delete(events).where(events.c.id == 1))


async def delete_last(conn: AsyncConnection) -> None:
    await conn.execute(delete(events).where(events.c.id == 6))


async def delete_last_two(conn: AsyncConnection) -> None:
    await conn.execute(delete(events).where(events.c.id >= 5))


async def insert_at_end(conn: AsyncConnection) -> None:
    last = await _row(conn, 6)
    content = _content(last, event_id=7, action="test.forged", details={})
    await conn.execute(
        insert(events).values(
            id=7,
            occurred_at=last.occurred_at,
            actor_type=last.actor_type,
            action="test.forged",
            subject_type=last.subject_type,
            subject_id=last.subject_id,
            actor_id=last.actor_id,
            ip=last.ip,
            request_id=last.request_id,
            details={},
            prev_hash=last.hash,
            hash=event_hash(last.hash, content),
        )
    )


async def renumber(conn: AsyncConnection) -> None:
    await conn.execute(update(events).where(events.c.id == 6).values(id=9))


async def rewind_head(conn: AsyncConnection) -> None:
    row = await _row(conn, 4)
    await conn.execute(update(head_table).values(last_event_id=4, last_hash=row.hash))


CASES = [
    pytest.param(edit_details, 3, "edited", id="edit-details"),
    pytest.param(edit_action, 1, "edited", id="edit-first-action"),
    pytest.param(edit_time, 4, "edited", id="edit-time"),
    pytest.param(edit_actor_and_rehash, 3, "link_broken", id="edit-and-rehash"),
    pytest.param(delete_middle, 3, "missing", id="delete-middle"),
    pytest.param(delete_first, 1, "missing", id="delete-first"),
    pytest.param(delete_last, 6, "missing", id="delete-last"),
    pytest.param(delete_last_two, 5, "missing", id="delete-last-two"),
    pytest.param(insert_at_end, 7, "unexpected", id="insert-at-end"),
    pytest.param(renumber, 6, "missing", id="renumber"),
    pytest.param(rewind_head, 5, "unexpected", id="rewind-head"),
]


async def test_an_empty_log_is_clean(audit_engine: AsyncEngine) -> None:
    report = await verify_audit_chain(audit_engine)
    assert report.clean
    assert (report.events_checked, report.last_event_id, report.head_event_id) == (0, 0, 0)
    assert report.last_hash == report.head_hash == GENESIS_HASH


async def test_an_untouched_chain_is_clean(audit_engine: AsyncEngine, clock: FrozenClock) -> None:
    await write_chain(audit_engine, clock)
    report = await verify_audit_chain(audit_engine)
    assert report.clean, report.problems
    assert report.first_broken is None
    assert (report.events_checked, report.last_event_id, report.head_event_id) == (6, 6, 6)
    assert report.head_hash == report.last_hash


@pytest.mark.parametrize(("tamper", "broken_id", "kind"), CASES)
async def test_tampering_is_found_and_named(
    audit_engine: AsyncEngine, clock: FrozenClock, tamper: Tamper, broken_id: int, kind: str
) -> None:
    await write_chain(audit_engine, clock)
    async with tampering(audit_engine) as conn:
        await tamper(conn)

    report = await verify_audit_chain(audit_engine)

    assert not report.clean
    first = report.first_broken
    assert first is not None
    assert (first.event_id, first.kind) == (broken_id, kind), report.problems
    assert f"event {broken_id}" in first.message or f"events {broken_id}" in first.message


async def test_the_triggers_are_back_after_tampering(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    await write_chain(audit_engine, clock, transactions=1)
    async with tampering(audit_engine) as conn:
        await edit_action(conn)
    with pytest.raises(DBAPIError):
        async with audit_engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_events"))
