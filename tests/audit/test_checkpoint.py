"""``check_chain``: the chain's status from a checkpoint, re-hashing only newer events.

Six events are verified (the checkpoint is at event 6), four more are written, then the
log is tampered with the triggers off. What came after the checkpoint is caught as the full
walk would catch it; a rewrite reaching back past the checkpoint is caught at the
checkpoint's own event; an in-place edit of an older event is left to the full walk.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.checkpoint import ChainStatus, check_chain, checkpoints
from ewallet.audit.service import Actor, event_content, event_hash
from ewallet.audit.verify import verify_audit_chain
from ewallet.kit.clock import FrozenClock
from tests.audit.helpers import tampering, write_chain
from tests.fixtures.staff import events_table, head_table

events = events_table
WHO = Actor("staff", "stf_checker")


async def check(engine: AsyncEngine, clock: FrozenClock, budget: int = 1_000) -> ChainStatus:
    return await check_chain(engine, clock=clock, actor=WHO, budget=budget)


async def _broken_events(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(events.c.details).where(events.c.action == "audit.chain_broken")
        )
        return [row.details for row in rows]


async def _checkpoint(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(checkpoints.c.verified_event_id))).scalar_one())


async def _rehash_from(conn: AsyncConnection, first: int, **changes: object) -> None:
    """Rewrite event ``first`` with ``changes`` and re-hash it and every later event and
    the head, as an intruder covering their tracks would."""
    rows = (
        await conn.execute(select(events).where(events.c.id >= first).order_by(events.c.id))
    ).all()
    prev = rows[0].prev_hash
    for row in rows:
        values = {column: getattr(row, column) for column in row._fields}
        if row.id == first:
            values.update(changes)
        content = event_content(
            event_id=row.id,
            occurred_at=values["occurred_at"],
            actor_type=values["actor_type"],
            actor_id=values["actor_id"],
            action=values["action"],
            subject_type=values["subject_type"],
            subject_id=values["subject_id"],
            ip=values["ip"],
            request_id=values["request_id"],
            details=values["details"],
        )
        digest = event_hash(prev, content)
        rewritten = dict(changes) if row.id == first else {}
        await conn.execute(
            update(events)
            .where(events.c.id == row.id)
            .values(prev_hash=prev, hash=digest, **rewritten)
        )
        prev = digest
    await conn.execute(update(head_table).values(last_hash=prev))


async def _verified_then_more(engine: AsyncEngine, clock: FrozenClock) -> None:
    await write_chain(engine, clock, transactions=3)
    first = await check(engine, clock)
    assert (first.state, first.verified_event_id, first.events_checked) == ("verified", 6, 6)
    await write_chain(engine, clock, transactions=2)


async def test_nothing_new_costs_no_rehash_and_new_events_are_checked(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    empty = await check(audit_engine, clock)
    assert (empty.state, empty.total_events, empty.verified_event_id) == ("verified", 0, 0)
    await _verified_then_more(audit_engine, clock)
    status = await check(audit_engine, clock)
    assert (status.state, status.checked_from_event_id, status.events_checked) == (
        "verified",
        6,
        4,
    )
    assert (status.total_events, status.verified_event_id, status.unchecked_events) == (10, 10, 0)
    again = await check(audit_engine, clock)
    assert (again.checked_from_event_id, again.events_checked) == (10, 0)
    assert again.verified_event_at is not None
    assert again.verified_event_at == status.verified_event_at
    assert await _broken_events(audit_engine) == []


async def test_a_backlog_is_worked_through_a_budget_at_a_time(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    await write_chain(audit_engine, clock, transactions=5)
    steps = [await check(audit_engine, clock, budget=4) for _ in range(3)]
    assert [(s.state, s.verified_event_id, s.unchecked_events) for s in steps] == [
        ("behind", 4, 6),
        ("behind", 8, 2),
        ("verified", 10, 0),
    ]
    # A budget spent exactly on the last event still reaches the end.
    await write_chain(audit_engine, clock, transactions=2)
    exact = await check(audit_engine, clock, budget=4)
    assert (exact.state, exact.verified_event_id, exact.events_checked) == ("verified", 14, 4)


async def test_an_edit_after_the_checkpoint_is_found_once_and_recorded(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    await _verified_then_more(audit_engine, clock)
    async with tampering(audit_engine) as conn:
        await conn.execute(update(events).where(events.c.id == 8).values(details={"n": 99}))

    status = await check(audit_engine, clock)

    assert status.state == "broken"
    assert status.first_problem is not None
    assert (status.first_problem.event_id, status.first_problem.kind) == (8, "edited")
    assert status.verified_event_id == 7
    assert await _checkpoint(audit_engine) == 7
    recorded = await _broken_events(audit_engine)
    assert [(d["event_id"], d["kind"]) for d in recorded] == [(8, "edited")]
    # Seen again: the same answer, no second record, the checkpoint stays before the break.
    again = await check(audit_engine, clock)
    assert (again.state, again.verified_event_id) == ("broken", 7)
    assert len(await _broken_events(audit_engine)) == 1
    assert await _checkpoint(audit_engine) == 7


async def test_deleting_the_newest_events_is_found(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    await _verified_then_more(audit_engine, clock)
    async with tampering(audit_engine) as conn:
        await conn.execute(delete(events).where(events.c.id >= 9))
    status = await check(audit_engine, clock)
    assert status.first_problem is not None
    assert (status.first_problem.event_id, status.first_problem.kind) == (9, "missing")
    assert status.verified_event_id == 8


async def test_a_rewrite_reaching_back_past_the_checkpoint_is_caught_there(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    await _verified_then_more(audit_engine, clock)
    async with tampering(audit_engine) as conn:
        await _rehash_from(conn, 3, actor_id="stf_someone_else")
    # Re-hashed consistently: the full walk sees a clean chain (only an anchor outside
    # the database would tell), but the checkpoint kept event 6's verified hash.
    assert (await verify_audit_chain(audit_engine)).clean
    status = await check(audit_engine, clock)
    assert status.first_problem is not None
    assert (status.first_problem.event_id, status.first_problem.kind) == (6, "rewritten")
    assert status.verified_event_id == 5
    assert await _checkpoint(audit_engine) == 6  # never backwards


async def test_an_older_in_place_edit_is_left_to_the_full_walk(
    audit_engine: AsyncEngine, clock: FrozenClock
) -> None:
    """The documented limit: an event before the checkpoint edited without touching its
    hash is found by ``ewallet audit verify``, not by the incremental check."""
    await _verified_then_more(audit_engine, clock)
    async with tampering(audit_engine) as conn:
        await conn.execute(update(events).where(events.c.id == 2).values(details={"n": 99}))
    assert (await check(audit_engine, clock)).state == "verified"
    full = await verify_audit_chain(audit_engine)
    assert full.first_broken is not None
    assert full.first_broken.event_id == 2
