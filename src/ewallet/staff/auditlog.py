"""Reading the audit log (admins and risk officers): newest first, filtered, paginated.

Looking at the audit log is itself recorded (``audit.viewed`` with the filters), so who
looked at what stays on the record too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.staff import repository as repo
from ewallet.staff.principal import StaffPrincipal


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor_type: str
    actor_id: str | None
    action: str
    subject_type: str | None
    subject_id: str | None
    ip: str | None
    request_id: str | None
    details: dict[str, Any]
    hash: str


async def list_audit_events(
    engine: AsyncEngine,
    *,
    clock: Clock,
    principal: StaffPrincipal,
    action: str | None,
    subject_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    limit = check_limit(limit)
    before_id = None
    if cursor is not None:
        before = decode_cursor(cursor).get("before")
        if not isinstance(before, int):
            raise ValidationFailedError("malformed cursor")
        before_id = before

    async def work(uow: UnitOfWork) -> list[Any]:
        conn = await uow.connection()
        rows = await repo.audit_events_page(
            conn, action=action, subject_id=subject_id, before_id=before_id, limit=limit
        )
        await record_event(
            conn,
            clock=clock,
            actor=principal.actor(),
            action="audit.viewed",
            details={"action": action, "subject_id": subject_id, "before_id": before_id},
        )
        return rows

    rows = await run_unit(engine, work)
    items = [
        AuditEntry(
            id=row.id,
            occurred_at=row.occurred_at,
            actor_type=row.actor_type,
            actor_id=row.actor_id,
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            ip=row.ip,
            request_id=row.request_id,
            details=row.details,
            hash=row.hash,
        )
        for row in rows[:limit]
    ]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(rows) > limit else None
    return Page(items, next_cursor)
