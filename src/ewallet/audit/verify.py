"""Check the audit chain end to end: ``ewallet audit verify``.

Every event is re-hashed from its row with the same :func:`event_content` and
:func:`event_hash` that wrote it, in id order, in one snapshot of the table:

- ids run 1, 2, 3 ... without a gap (a deleted event leaves one);
- each event's ``prev_hash`` is the stored hash of the event before it (genesis for the
  first), and its own hash matches its content: an edited row fails its own hash; a row
  edited *and* re-hashed breaks the link its successor recorded;
- the chain head (``audit_chain_head``) names the last event and its hash: deleting the
  newest events leaves the head pointing past the end, and rows appended by anything but
  :func:`~ewallet.audit.service.record_event` lie beyond it.

Problems are reported by the event they concern (for a broken link: the event whose
hash no longer matches what its successor recorded). What no hash chain can catch on its
own is an attacker who rewrites an event, every later one *and* the head: anchoring the
head outside the database (printing ``last_event_id``/``last_hash`` to a log shipped
elsewhere) closes that, and the report prints both for that purpose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import GENESIS_HASH, event_content, event_hash
from ewallet.kit.db.engine import READ_ONLY_OPTION, is_sqlite
from ewallet.models.tables import audit_chain_head as head
from ewallet.models.tables import audit_events as events

PAGE: Final = 2_000

ProblemKind = Literal[
    "edited", "link_broken", "missing", "unexpected", "head_mismatch", "rewritten"
]


@dataclass(frozen=True, slots=True)
class ChainProblem:
    event_id: int
    kind: ProblemKind
    message: str


@dataclass(slots=True)
class AuditReport:
    events_checked: int = 0
    last_event_id: int = 0
    last_hash: str = GENESIS_HASH
    last_event_at: datetime | None = None
    head_event_id: int | None = None
    head_hash: str | None = None
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> ChainProblem | None:
        """The earliest event concerned: where an investigation starts."""
        return min(self.problems, key=lambda p: p.event_id, default=None)

    def as_dict(self) -> dict[str, Any]:
        first = self.first_broken
        return {
            "clean": self.clean,
            "events_checked": self.events_checked,
            "last_event_id": self.last_event_id,
            "last_hash": self.last_hash,
            "head": {"last_event_id": self.head_event_id, "last_hash": self.head_hash},
            "first_broken_event_id": first.event_id if first else None,
            "problems": [
                {"event_id": p.event_id, "kind": p.kind, "message": p.message}
                for p in self.problems
            ],
        }


def _content(row: Any) -> dict[str, Any]:
    return event_content(
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


def _span(first: int, last: int, what: str) -> str:
    return f"event {first} is {what}" if first == last else f"events {first}..{last} are {what}"


class _Walk:
    """The running state of one pass over the chain."""

    def __init__(
        self, report: AuditReport, *, after_id: int = 0, after_hash: str = GENESIS_HASH
    ) -> None:
        self.report = report
        self.expected_id = after_id + 1
        self.prev_hash = after_hash
        report.last_event_id = after_id
        report.last_hash = after_hash

    def add(self, event_id: int, kind: ProblemKind, message: str) -> None:
        self.report.problems.append(ChainProblem(event_id, kind, message))

    def check(self, row: Any) -> None:
        event_id = int(row.id)
        gap = event_id != self.expected_id
        if gap:
            span = _span(self.expected_id, event_id - 1, "missing")
            self.add(self.expected_id, "missing", f"{span}: ids jump to {event_id}")
        elif row.prev_hash != self.prev_hash:
            # This row was hashed over another predecessor: the one before it changed.
            self.add(
                event_id - 1,
                "link_broken",
                f"event {event_id - 1}'s hash is not the one event {event_id} recorded: "
                f"event {event_id - 1} was rewritten (or its predecessor link was)",
            )
        if event_hash(row.prev_hash, _content(row)) != row.hash:
            self.add(event_id, "edited", f"event {event_id}'s content does not match its hash")
        self.prev_hash = row.hash
        self.expected_id = event_id + 1
        self.report.events_checked += 1
        self.report.last_event_id = event_id
        self.report.last_hash = row.hash
        self.report.last_event_at = row.occurred_at

    def check_head(self, row: Any) -> None:
        report = self.report
        if row is None:
            self.add(report.last_event_id + 1, "head_mismatch", "the chain head row is missing")
            return
        report.head_event_id = int(row.last_event_id)
        report.head_hash = row.last_hash
        last = report.last_event_id
        if report.head_event_id > last:
            span = _span(last + 1, report.head_event_id, "missing")
            self.add(
                last + 1,
                "missing",
                f"{span}: the chain head names event {report.head_event_id} but the log "
                f"ends at {last} (the newest events were deleted)",
            )
        elif report.head_event_id < last:
            span = _span(report.head_event_id + 1, last, "beyond the chain head")
            self.add(
                report.head_event_id + 1,
                "unexpected",
                f"{span}: written outside record_event, or the head was rewound",
            )
        elif report.head_hash != report.last_hash:
            self.add(last, "head_mismatch", f"the chain head's hash differs from event {last}'s")


async def walk_chain(
    conn: AsyncConnection,
    *,
    after_id: int = 0,
    after_hash: str = GENESIS_HASH,
    budget: int | None = None,
    report: AuditReport | None = None,
) -> tuple[AuditReport, bool]:
    """Check the events after ``after_id`` (whose hash is ``after_hash``) in id order, at
    most ``budget`` of them; the report and whether the walk reached the end of the log.

    Only a walk that reached the end compares the chain head (a partial walk would take
    the events beyond it for deleted ones). ``report`` continues a report already begun.
    """
    report = report if report is not None else AuditReport()
    walk = _Walk(report, after_id=after_id, after_hash=after_hash)
    after, seen = after_id, 0
    while True:
        size = PAGE if budget is None else min(PAGE, budget - seen)
        if size <= 0:
            more = select(events.c.id).where(events.c.id > after).limit(1)
            if (await conn.execute(more)).first() is not None:
                return report, False
            break
        rows = (
            await conn.execute(
                select(events).where(events.c.id > after).order_by(events.c.id).limit(size)
            )
        ).all()
        for row in rows:
            walk.check(row)
        seen += len(rows)
        if len(rows) < size:
            break
        after = int(rows[-1].id)
    walk.check_head((await conn.execute(select(head).where(head.c.id == 1))).first())
    return report, True


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction that sees one consistent state of the log: REPEATABLE READ
    on PostgreSQL, a read transaction on SQLite in WAL mode, so events appended meanwhile
    never look like a broken head."""
    if is_sqlite(engine):
        bind = engine.execution_options(**{READ_ONLY_OPTION: True})
    else:
        bind = engine.execution_options(isolation_level="REPEATABLE READ")
    async with bind.connect() as conn, conn.begin():
        yield conn


async def verify_audit_chain(engine: AsyncEngine) -> AuditReport:
    """Recompute and link every audit event; the report lists every problem found.

    Reads one consistent snapshot (:func:`snapshot`).
    """
    async with snapshot(engine) as conn:
        report, _ = await walk_chain(conn)
        return report
