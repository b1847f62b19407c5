"""Reading the audit log (admins and risk officers): search, one event, the chain's status.

Looking at the audit log is itself recorded (``audit.viewed`` with the filters, or the
event looked at), so who looked at what stays on the record too. The chain's status
(:func:`chain_status`) shows no one's data and records nothing, unless it is the first
to find the chain broken (:mod:`ewallet.audit.checkpoint`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from ewallet.audit.checkpoint import ChainStatus, check_chain
from ewallet.audit.service import GENESIS_HASH, event_content, event_hash, record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.services import Services
from ewallet.staff import repository as repo
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.views import AuditEntry, AuditEventDetail, AuditFilter, AuditOverview

ACTOR_TYPES = ("user", "staff", "system", "merchant", "anonymous")
# Dates typed into a search are Asia/Shanghai days, as everywhere people read times.
CHINA_TIME: Final = ZoneInfo("Asia/Shanghai")


def _moment(value: str | None, *, name: str, end: bool) -> datetime | None:
    """RFC 3339 with an offset, or a date meaning that whole Asia/Shanghai day."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), time(), tzinfo=CHINA_TIME)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailedError(f"'{name}' must be a date or an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValidationFailedError(f"'{name}' needs a UTC offset (RFC 3339)")
    return moment


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def audit_filter(
    *,
    actor_type: str | None = None,
    actor_id: str | None = None,
    action: str | None = None,
    action_prefix: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AuditFilter:
    """A search from what a person or a client typed: blanks ignored; ``since``/``until``
    RFC 3339 with an offset, or dates (``until`` then includes that whole day).

    Refusals: ``422 validation_error`` (an unknown actor type, a malformed time, a range
    that ends before it starts).
    """
    actor_type = _text(actor_type)
    if actor_type is not None and actor_type not in ACTOR_TYPES:
        raise ValidationFailedError(f"actor type is one of {', '.join(ACTOR_TYPES)}")
    start = _moment(since, name="from", end=False)
    end = _moment(until, name="to", end=True)
    if start is not None and end is not None and end <= start:
        raise ValidationFailedError("'to' must come after 'from'")
    return AuditFilter(
        actor_type=actor_type,
        actor_id=_text(actor_id),
        action=_text(action),
        action_prefix=_text(action_prefix),
        subject_type=_text(subject_type),
        subject_id=_text(subject_id),
        since=start,
        until=end,
    )


async def list_audit_events(
    services: Services,
    principal: StaffPrincipal,
    *,
    flt: AuditFilter,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    """A page of audit events matching ``flt``, newest first, and the ``audit.viewed``
    event recording the look (in the same unit).

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
        entries = await repo.audit_events_page(conn, flt=flt, before_id=before_id, limit=limit)
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="audit.viewed",
            details={**flt.as_details(), "before_id": before_id},
        )
        return entries

    entries = await run_unit(services.engine, work)
    items = entries[:limit]
    next_cursor = encode_cursor({"before": items[-1].id}) if len(entries) > limit else None
    return Page(items, next_cursor)


def _hash_of(entry: AuditEntry) -> str:
    content = event_content(
        event_id=entry.id,
        occurred_at=entry.occurred_at,
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        ip=entry.ip,
        request_id=entry.request_id,
        details=entry.details,
    )
    return event_hash(entry.prev_hash, content)


async def get_audit_event(
    services: Services, principal: StaffPrincipal, *, event_id: int
) -> AuditEventDetail:
    """One event, re-hashed and linked to the one before it, and the look recorded
    (``audit.viewed`` naming the event). Refusals: ``404 not_found`` (nothing recorded)."""

    async def work(uow: UnitOfWork) -> AuditEventDetail:
        conn = await uow.connection()
        entry = await repo.audit_event(conn, event_id)
        if entry is None:
            raise NotFoundError("no such audit event")
        before, after = await repo.audit_neighbours(conn, event_id)
        # Linked: the event before is really event_id - 1 (none for the first) and its
        # hash is the one this event recorded.
        before_id = None if before is None else int(before.id)
        expected_prev = GENESIS_HASH if before is None else before.hash
        linked = before_id == (event_id - 1 or None) and entry.prev_hash == expected_prev
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="audit.viewed",
            subject_type="audit_event",
            subject_id=str(event_id),
            details={"event_id": event_id},
        )
        return AuditEventDetail(
            entry=entry,
            hash_matches=_hash_of(entry) == entry.hash,
            link_matches=linked,
            previous_event_id=before_id,
            next_event_id=after,
        )

    return await run_unit(services.engine, work)


async def chain_status(services: Services, principal: StaffPrincipal) -> ChainStatus:
    """The chain's status: verified up to which event, or broken at which, checking only
    what came after the last check (:func:`ewallet.audit.checkpoint.check_chain`)."""
    return await check_chain(services.engine, clock=services.clock, actor=principal.actor())


async def audit_overview(
    services: Services,
    principal: StaffPrincipal,
    *,
    flt: AuditFilter,
    limit: int,
    cursor: str | None,
) -> AuditOverview:
    """The console's audit page: the chain's status (checked first), then a page of the
    search (recorded as :func:`list_audit_events` records it). Refusals as that one's."""
    status = await chain_status(services, principal)
    page = await list_audit_events(services, principal, flt=flt, limit=limit, cursor=cursor)
    return AuditOverview(status, page)
