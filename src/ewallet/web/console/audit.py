"""Console pages: the audit log (``/console/audit``) -- the hash chain's status on top
(verified up to which event, or broken where and what to do), a search by who, what, about
whom and when, and one event with its own hash check.

For risk officers and admins, over the use cases of ``GET /v1/staff/audit-events`` (and
``/verification``, ``/{id}``): every search and every event opened is itself recorded
(``audit.viewed``). The chain is checked from the last checkpoint on each visit
(:mod:`ewallet.audit.checkpoint`), so the page stays quick on a long log. Compliance's
other lists -- large-cash records, and risk reviews once they exist -- are linked from here.
"""

from __future__ import annotations

import json
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ewallet.audit.service import GENESIS_HASH
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.staff.permissions import CASH_REPORTING
from ewallet.staff.service import audit_log
from ewallet.staff.service.audit_log import ACTOR_TYPES
from ewallet.staff.views import AuditFilter
from ewallet.web.console.auth import Auditor
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.pages import refusal

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE: Final = 50
SEARCH: Final = "console/audit/search.html"
EVENT: Final = "console/audit/event.html"
Text = Annotated[str, Query(max_length=64)]
When = Annotated[str, Query(alias="from", max_length=40)]
Until = Annotated[str, Query(max_length=40)]

# What a broken chain means, by the kind of the first problem (English msgids).
PROBLEMS: Final = {
    "edited": N_("The event's content no longer matches its hash: it was changed in the database."),
    "link_broken": N_(
        "The event after this one recorded another hash for it: this event was rewritten."
    ),
    "missing": N_("Events from here on are missing: they were deleted from the database."),
    "unexpected": N_(
        "Events from here on were added outside the audit log's own writer, or the chain's "
        "head was moved back."
    ),
    "head_mismatch": N_("The chain's head does not match the newest event."),
    "rewritten": N_(
        "This event has been rewritten since it was verified (and with it perhaps every "
        "event before it)."
    ),
}
ACTOR_LABELS: Final = {
    "user": N_("Customer"),
    "staff": N_("Staff"),
    "system": N_("System"),
    "merchant": N_("Merchant"),
    "anonymous": N_("Anonymous"),
}


def _query(values: dict[str, str]) -> str:
    return urlencode({name: value for name, value in values.items() if value})


@router.get("/audit")
async def audit_page(
    *,
    request: Request,
    services: ServicesDep,
    staff: Auditor,
    actor_type: Text = "",
    actor_id: Text = "",
    action: Text = "",
    subject_type: Text = "",
    subject_id: Text = "",
    since: When = "",
    until: Until = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The chain's status and a page of the search (the newest events when nothing is
    asked for)."""
    typed = {
        "actor_type": actor_type,
        "actor_id": actor_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "from": since,
        "to": until,
    }
    error = None
    try:
        flt = audit_log.audit_filter(
            actor_type=actor_type,
            actor_id=actor_id,
            action_prefix=action,
            subject_type=subject_type,
            subject_id=subject_id,
            since=since,
            until=until,
        )
    except DomainError as refused:
        error, flt = refusal(request, refused), AuditFilter()
    try:
        overview = await audit_log.audit_overview(
            services, staff, flt=flt, limit=PAGE_SIZE, cursor=cursor or None
        )
    except DomainError as refused:  # a cursor typed by hand
        error = refusal(request, refused)
        overview = await audit_log.audit_overview(
            services, staff, flt=flt, limit=PAGE_SIZE, cursor=None
        )
    next_cursor = overview.page.next_cursor
    return await console_page(
        request,
        services,
        SEARCH,
        status_code=422 if error else 200,
        error=error,
        status=overview.status,
        events=overview.page.items,
        typed=typed,
        filtered=any(typed.values()),
        actor_types=ACTOR_TYPES,
        actor_labels=ACTOR_LABELS,
        problems=PROBLEMS,
        next_url=f"/console/audit?{_query({**typed, 'cursor': next_cursor})}"
        if next_cursor
        else None,
        first_page=not cursor,
        newest_url="/console/audit" + (f"?{_query(typed)}" if any(typed.values()) else ""),
        search_url=lambda **values: "/console/audit?" + _query(values),
        may_read_large_cash=CASH_REPORTING.allows(staff.role),
    )


@router.get("/audit/events/{event_id}")
async def event_page(
    *,
    request: Request,
    services: ServicesDep,
    staff: Auditor,
    event_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    """One event, re-hashed and checked against the one before it."""
    detail = await audit_log.get_audit_event(services, staff, event_id=event_id)
    return await console_page(
        request,
        services,
        EVENT,
        detail=detail,
        event=detail.entry,
        details_text=json.dumps(detail.entry.details, indent=2, ensure_ascii=False, sort_keys=True),
        genesis=GENESIS_HASH,
        actor_labels=ACTOR_LABELS,
        search_url=lambda **values: "/console/audit?" + _query(values),
    )
