"""Append audit events to one hash chain.

Each event's hash is SHA-256 over the previous hash and the event's canonical content, so
editing a row breaks its own hash, deleting one breaks its successor's link, and deleting
the newest is caught by the chain head (``audit_chain_head``), which names the last event
and hash. Appenders lock the head row, so concurrent writers extend one chain, never fork
it. The event is written in the caller's transaction: it exists exactly when the action did.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import Clock, as_utc
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.tables import audit_chain_head as head
from ewallet.models.tables import audit_events as events

ActorType = Literal["user", "staff", "system", "merchant", "anonymous"]
GENESIS_HASH = "0" * 64


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
    locked = (await conn.execute(select(head).where(head.c.id == 1).with_for_update())).one()
    event_id = int(locked.last_event_id) + 1
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
    digest = event_hash(locked.last_hash, content)
    await conn.execute(
        insert(events).values(
            id=event_id,
            occurred_at=occurred_at,
            actor_type=actor.type,
            actor_id=actor.id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            ip=actor.ip,
            request_id=request_id,
            details=details or {},
            prev_hash=locked.last_hash,
            hash=digest,
        )
    )
    await conn.execute(
        update(head).where(head.c.id == 1).values(last_event_id=event_id, last_hash=digest)
    )
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
