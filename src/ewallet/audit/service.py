"""Append audit events to one hash chain.

Each event's hash is SHA-256 over the previous hash and the event's canonical content, so
editing a row breaks its own hash, deleting one breaks its successor's link, and deleting
the newest is caught by the chain head (``audit_chain_head``), which names the last event
and hash. Appenders lock the head row, so concurrent writers extend one chain, never fork
it. The event is written in the caller's transaction: it exists exactly when the action did.

An append is two round trips on PostgreSQL (take the next id and the previous hash with
the head's ``UPDATE ... RETURNING``; insert the event and set the head's hash in one
statement) and three on SQLite, each statement built once: the head stays locked from the
first to the caller's commit, so fewer turns of the event loop in between shorten the
queue on it (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import Clock, as_utc
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.tables import audit_chain_head as head
from ewallet.models.tables import audit_events as events

ActorType = Literal["user", "staff", "system", "merchant", "anonymous"]
GENESIS_HASH = "0" * 64

# The append's statements, built once (no statement building or cache key per event).
# Taking the next id is an UPDATE: it locks the head row until the caller's commit, so
# concurrent appenders queue on it and extend one chain; RETURNING hands back the new id
# and the hash the event links to (the head's hash is set after the event is hashed).
_TAKE_NEXT_ID = (
    update(head)
    .where(head.c.id == 1)
    .values(last_event_id=head.c.last_event_id + 1)
    .returning(head.c.last_event_id, head.c.last_hash)
)
_EVENT_FIELDS = (
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",
    "subject_type",
    "subject_id",
    "ip",
    "request_id",
    "details",
    "prev_hash",
    "hash",
)
# Named e_<column>: SQLAlchemy keeps a column's own name for its implicit parameter.
_PARAMS = {name: bindparam(f"e_{name}", type_=events.c[name].type) for name in _EVENT_FIELDS}
_APPEND = insert(events).values(_PARAMS)
_SET_HASH = update(head).where(head.c.id == 1).values(last_hash=_PARAMS["hash"])
# PostgreSQL: the event's INSERT as a data-modifying CTE of the head's UPDATE.
_APPEND_AND_SET_HASH = _SET_HASH.add_cte(_APPEND.cte("appended"))


@dataclass(frozen=True, slots=True)
class Actor:
    type: ActorType
    id: str | None = None
    ip: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def event_content(
    *,
    event_id: int,
    occurred_at: datetime,
    actor_type: str,
    actor_id: str | None,
    action: str,
    subject_type: str | None,
    subject_id: str | None,
    ip: str | None,
    request_id: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    """The hashed fields; ``ewallet audit verify`` rebuilds exactly this from a row."""
    return {
        "id": event_id,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor_type": actor_type,
        "actor_id": actor_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "ip": ip,
        "request_id": request_id,
        "details": details,
    }


async def record_event(
    conn: AsyncConnection,
    *,
    clock: Clock,
    actor: Actor,
    action: str,
    subject_type: str | None = None,
    subject_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one event in the caller's transaction; returns its id."""
    taken = (await conn.execute(_TAKE_NEXT_ID)).one()  # locks the head until commit
    event_id, prev_hash = int(taken.last_event_id), str(taken.last_hash)
    occurred_at = as_utc(clock.now())  # hashed as the database will hand it back
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    content = event_content(
        event_id=event_id,
        occurred_at=occurred_at,
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        ip=actor.ip,
        request_id=request_id,
        details=details or {},
    )
    values = {
        "id": event_id,
        "occurred_at": occurred_at,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "ip": actor.ip,
        "request_id": request_id,
        "details": details or {},
        "prev_hash": prev_hash,
        "hash": event_hash(prev_hash, content),
    }
    row = {f"e_{name}": value for name, value in values.items()}
    if conn.dialect.name == "postgresql":
        await conn.execute(_APPEND_AND_SET_HASH, row)  # one round trip
    else:
        await conn.execute(_APPEND, row)
        await conn.execute(_SET_HASH, {"e_hash": row["e_hash"]})
    return event_id


async def audit_user(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    action: str,
    user_id: str,
    *,
    details: dict[str, Any] | None = None,
) -> None:
    """An audit event about a user's account, in the unit's transaction."""
    subject: dict[str, Any] = {"subject_type": "user", "subject_id": user_id}
    conn = await uow.connection()
    await record_event(conn, clock=clock, actor=actor, action=action, details=details, **subject)
