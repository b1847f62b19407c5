"""The audit chain's status for people: verified up to which event, or broken where.

``ewallet audit verify`` re-hashes the whole log: about 1.9 s per 100,000 events on SQLite
and 1.6 s on PostgreSQL (2 shared vCPUs), too slow to run on every look at the console.
So a check starts from a *checkpoint* -- the last event a previous check verified and its
hash, kept in ``audit_chain_checkpoint`` -- and re-hashes only what came after it, at most
:data:`CHECK_BUDGET` events per check (a larger backlog is worked through over several
looks, and the status says how far it got). With nothing new, a check costs a few
single-row reads.

What starting from a checkpoint still catches: any event written or changed after it (as
the full walk would); a rewrite of the checkpoint's own event, hence of any earlier event
that was re-hashed forwards (the checkpoint keeps the hash it verified, outside the
chain); deleting that event. What it cannot catch is an edit to an *older* event that
leaves its stored hash alone, or deleting one: only the full walk re-hashes those, so run
``ewallet audit verify`` on a schedule as well (and ship its head elsewhere,
docs/security.md).

The first time a check finds the chain broken it records ``audit.chain_broken`` (with
the event and what is wrong) and logs an error; later checks finding the same break stay
quiet. The checkpoint never moves backwards and never past a problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import GENESIS_HASH, Actor, event_content, event_hash, record_event
from ewallet.audit.verify import AuditReport, ChainProblem, snapshot, walk_chain
from ewallet.kit.clock import Clock
from ewallet.kit.db.engine import is_sqlite
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models import tables
from ewallet.models.tables import audit_chain_head as head
from ewallet.models.tables import audit_events as events

checkpoints = tables.audit_chain_checkpoint
log = structlog.get_logger(__name__)

# Events re-hashed by one check at most (about a second on the hardware above).
CHECK_BUDGET: Final = 50_000
CHECKPOINT_ID: Final = 1

ChainState = Literal["verified", "behind", "broken"]


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """What one check found.

    ``verified_event_id``: events 1 to this one are verified (0: none yet), the newest of
    them written at ``verified_event_at``. ``state``: ``verified`` up to the newest event;
    ``behind`` (no problem, but more events than one check re-hashes are still waiting);
    ``broken`` at ``first_problem``.
    """

    state: ChainState
    total_events: int
    verified_event_id: int
    verified_event_at: datetime | None
    checked_from_event_id: int
    events_checked: int
    checked_at: datetime
    first_problem: ChainProblem | None
    problem_count: int
    head_hash: str | None

    @property
    def unchecked_events(self) -> int:
        return max(0, self.total_events - self.verified_event_id)


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    event_id: int
    hash: str
    event_at: datetime | None
    broken_event_id: int | None


@dataclass(frozen=True, slots=True)
class _Found:
    """What the read-only snapshot found, before the checkpoint is moved."""

    start: _Checkpoint
    report: AuditReport
    complete: bool
    total_events: int
    good_id: int
    good_hash: str
    good_at: datetime | None


async def _checkpoint(conn: AsyncConnection) -> _Checkpoint:
    row = (await conn.execute(select(checkpoints).where(checkpoints.c.id == CHECKPOINT_ID))).first()
    if row is None:
        return _Checkpoint(0, GENESIS_HASH, None, None)
    return _Checkpoint(
        int(row.verified_event_id), row.verified_hash, row.verified_event_at, row.broken_event_id
    )


async def _event(conn: AsyncConnection, event_id: int) -> Any:
    return (await conn.execute(select(events).where(events.c.id == event_id))).first()


def _rehash(row: Any) -> str:
    content = event_content(
        event_id=int(row.id),
        occurred_at=row.occurred_at,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        ip=row.ip,
        request_id=row.request_id,
        details=row.details,
    )
    return event_hash(row.prev_hash, content)


async def _anchor_problem(conn: AsyncConnection, start: _Checkpoint) -> ChainProblem | None:
    """Is the checkpoint's event still the one that was verified?"""
    if start.event_id == 0:
        return None
    row = await _event(conn, start.event_id)
    at = start.event_id
    if row is None:
        return ChainProblem(at, "missing", f"event {at}, verified before, has been deleted")
    if row.hash != start.hash:
        return ChainProblem(
            at,
            "rewritten",
            f"event {at}'s hash is not the one verified before: it, or an event before "
            "it, was rewritten and re-hashed",
        )
    if _rehash(row) != row.hash:
        return ChainProblem(at, "edited", f"event {at}'s content does not match its hash")
    return None


async def _find(conn: AsyncConnection, budget: int) -> _Found:
    start = await _checkpoint(conn)
    report = AuditReport()
    anchor = await _anchor_problem(conn, start)
    if anchor is not None:
        report.problems.append(anchor)
    report, complete = await walk_chain(
        conn, after_id=start.event_id, after_hash=start.hash, budget=budget, report=report
    )
    named = (await conn.execute(select(head.c.last_event_id).where(head.c.id == 1))).scalar()
    total = max(int(named or 0), report.last_event_id)
    first = report.first_broken
    if first is None:
        return _Found(
            start,
            report,
            complete,
            total,
            report.last_event_id,
            report.last_hash,
            report.last_event_at or start.event_at,
        )
    # Everything before the first problem is verified; the event just before it is the
    # furthest a checkpoint may go.
    good_id = max(0, first.event_id - 1)
    good = await _event(conn, good_id) if good_id else None
    if good is None:
        return _Found(start, report, complete, total, 0, GENESIS_HASH, None)
    return _Found(start, report, complete, total, good_id, good.hash, good.occurred_at)


def _upsert(engine: AsyncEngine, values: dict[str, Any]) -> Any:
    dialect_insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
    return (
        dialect_insert(checkpoints)
        .values(id=CHECKPOINT_ID, **values)
        .on_conflict_do_nothing(index_elements=["id"])
    )


async def check_chain(
    engine: AsyncEngine, *, clock: Clock, actor: Actor, budget: int = CHECK_BUDGET
) -> ChainStatus:
    """Verify the events after the checkpoint (at most ``budget``) in one snapshot, then
    move the checkpoint forward in a short write unit; the status for people.

    ``actor`` (who looked) is recorded on ``audit.chain_broken`` when this check is the
    first to find a break.
    """
    async with snapshot(engine) as conn:
        found = await _find(conn, budget)
    report, start = found.report, found.start
    first = report.first_broken
    now = clock.now()

    async def settle(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        # The row exists from the first check on; made here, never seeded (so it needs
        # nothing from a migration and an emptied table starts over from event 1).
        await conn.execute(
            _upsert(
                engine,
                {
                    "verified_event_id": 0,
                    "verified_hash": GENESIS_HASH,
                    "verified_event_at": None,
                    "checked_at": now,
                    "broken_event_id": None,
                },
            )
        )
        current = (
            await conn.execute(
                select(checkpoints).where(checkpoints.c.id == CHECKPOINT_ID).with_for_update()
            )
        ).one()
        changes: dict[str, Any] = {"checked_at": now}
        if found.good_id > int(current.verified_event_id):
            changes.update(
                verified_event_id=found.good_id,
                verified_hash=found.good_hash,
                verified_event_at=found.good_at,
            )
        broken_id = first.event_id if first is not None else None
        if broken_id != current.broken_event_id:
            changes["broken_event_id"] = broken_id
            if first is not None:
                log.error(
                    "audit.chain_broken",
                    event_id=first.event_id,
                    kind=first.kind,
                    message=first.message,
                )
                await record_event(
                    conn,
                    clock=clock,
                    actor=actor,
                    action="audit.chain_broken",
                    subject_type="audit_event",
                    subject_id=str(first.event_id),
                    details={
                        "event_id": first.event_id,
                        "kind": first.kind,
                        "message": first.message,
                        "problems": len(report.problems),
                    },
                )
        await conn.execute(
            update(checkpoints).where(checkpoints.c.id == CHECKPOINT_ID).values(**changes)
        )

    moved = found.good_id > start.event_id
    changed_state = (first.event_id if first else None) != start.broken_event_id
    if moved or changed_state:
        await run_unit(engine, settle)
    state: ChainState = "broken" if first else ("verified" if found.complete else "behind")
    return ChainStatus(
        state=state,
        total_events=found.total_events,
        verified_event_id=found.good_id,
        verified_event_at=found.good_at,
        checked_from_event_id=start.event_id,
        events_checked=report.events_checked,
        checked_at=now,
        first_problem=first,
        problem_count=len(report.problems),
        head_hash=report.head_hash,
    )
