"""Reading the audit log (admins and risk officers): newest first, filtered, paginated.

Looking at the audit log is itself recorded (``audit.viewed`` with the filters), so who
looked at what stays on the record too.
"""

from __future__ import annotations

from ewallet.audit.service import record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.views import AuditEntry


async def list_audit_events(
    services: Services,
    principal: StaffPrincipal,
    *,
    action: str | None,
    subject_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    """A page of audit events matching ``action`` and ``subject_id``, newest first, and
    the ``audit.viewed`` event recording the look (in the same unit).

    Refusals: ``422 validation_error`` (a limit out of range, a malformed cursor), before
    anything is read or recorded.
    """
    limit = check_limit(limit)
    before_id = None
    if cursor is not None:
        before = decode_cursor(cursor).get("before")
        if not isinstance(before, int):
            raise ValidationFailedError("malformed cursor")
        before_id = before

    async def work(uow: UnitOfWork) -> list[AuditEntry]:
        conn = await uow.connection()
        entries = await repo.audit_events_page(
            conn, action=action, subject_id=subject_id, before_id=before_id, limit=limit
        )
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="audit.viewed",
            details={"action": action, "subject_id": subject_id, "before_id": before_id},
        )
        return entries

    entries = await run_unit(services.engine, work)
    items = entries[:limit]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(entries) > limit else None
    return Page(items, next_cursor)
