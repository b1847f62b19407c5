"""Console pages: the ticket queue and a ticket as an agent works on it.

``/console/tickets`` is the queue as ``GET /v1/staff/support/tickets`` lists it (state,
priority, SLA breached, assignee -- me, unassigned, anyone or a named agent --, category,
channel), newest first, 50 a page by cursor, each row with its SLA clock said in words.
``/console/tickets/{id}`` shows the thread with internal notes apart, a reply form with the
canned replies of the ticket's category, an internal note form, assignment, and the state,
priority and category; the customer's panel (``/console/customers/{user_id}/panel``) is
loaded beside it. Each form posts to its own path, makes the one call the staff API makes
(:mod:`ewallet.support.staff.service`, which audits every read and change), and comes back
to the ticket; a refusal shows the ticket again with the message next to the form and the
typed text kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Final, NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from ewallet.http.deps import ServicesDep
from ewallet.kit.clock import as_utc
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import Locale
from ewallet.models.support import (
    TICKET_CATEGORIES,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.support.sla import SlaTimes, sla_state
from ewallet.support.staff import service as desk
from ewallet.support.staff.views import QueueTicket, TicketDesk
from ewallet.support.views import QueueFilter
from ewallet.web.console.auth import Supporter
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.forms import Form
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, macro_table, refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

QUEUE: Final = "console/tickets/queue.html"
TICKET: Final = "console/tickets/ticket.html"
LABELS: Final = "console/tickets/_labels.html"
PAGE_SIZE: Final = 50
SOON: Final = timedelta(hours=1)
NOTICES: Final = ("replied", "noted", "assigned", "updated", "logged")
Short = Annotated[str, Query(max_length=40)]


# The SLA clock of a row, in words (never colour alone).


@dataclass(frozen=True, slots=True)
class Sla:
    tone: str  # "bad" (breached), "warn" (due within the hour), "ok" (met), "" (running)
    text: str


def duration(delta: timedelta, locale: Locale) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``12 min`` (at least a minute)."""
    minutes = max(int(delta.total_seconds() // 60), 1)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _t("%(days)s d %(hours)s h", locale) % {"days": days, "hours": hours}
    if hours:
        return _t("%(hours)s h %(minutes)s min", locale) % {"hours": hours, "minutes": minutes}
    return _t("%(minutes)s min", locale) % {"minutes": minutes}


def sla_of(ticket: SlaTimes, now: datetime, locale: Locale) -> Sla:
    """The timer that matters now: the first reply's until it is given, then the
    resolution's; a breach is said as such, a stopped clock as met or missed."""
    state = sla_state(ticket, now=now)
    if ticket.resolved_at is not None or ticket.closed_at is not None:
        if state.first_response_breached or state.resolution_breached:
            return Sla("bad", _t("SLA missed", locale))
        return Sla("ok", _t("SLA met", locale))
    if ticket.first_response_at is None:
        return _running(
            as_utc(ticket.sla_first_response_due_at),
            now,
            locale,
            late=_t("Breached: reply overdue by %(time)s", locale),
            left=_t("Reply within %(time)s", locale),
        )
    if state.first_response_breached and not state.resolution_breached:
        return Sla("bad", _t("Breached: the first reply was late", locale))
    return _running(
        as_utc(ticket.sla_resolution_due_at),
        now,
        locale,
        late=_t("Breached: resolution overdue by %(time)s", locale),
        left=_t("Resolve within %(time)s", locale),
    )


def _running(due: datetime, now: datetime, locale: Locale, *, late: str, left: str) -> Sla:
    """A running timer: how long it is overdue, or how long is left (within the hour: warn)."""
    if now > due:
        return Sla("bad", late % {"time": duration(now - due, locale)})
    return Sla("warn" if due - now <= SOON else "", left % {"time": duration(due - now, locale)})


# The queue.


@dataclass(frozen=True, slots=True)
class QueueLabels:
    """The words of the queue's codes in one language, as the macros of
    ``console/tickets/_labels.html`` draw them: badges for the rows, names for the filters."""

    status_badge: Mapping[str, Markup]
    priority_badge: Mapping[str, Markup]
    status_name: Mapping[str, Markup]
    priority_name: Mapping[str, Markup]
    category: Mapping[str, Markup]
    channel: Mapping[str, Markup]


@cache
def queue_labels(locale: Locale) -> QueueLabels:
    """Drawn once per language (:func:`~ewallet.web.kit.pages.macro_table`), not per row."""
    return QueueLabels(
        status_badge=macro_table(LABELS, "status", TICKET_STATUSES, locale),
        priority_badge=macro_table(LABELS, "priority", TICKET_PRIORITIES, locale),
        status_name=macro_table(LABELS, "status_name", TICKET_STATUSES, locale),
        priority_name=macro_table(LABELS, "priority_name", TICKET_PRIORITIES, locale),
        category=macro_table(LABELS, "category", TICKET_CATEGORIES, locale),
        channel=macro_table(LABELS, "channel", TICKET_CHANNELS, locale),
    )


class QueueRow(NamedTuple):
    """A row of the queue with its words looked up here: a dictionary look-up in Python
    is a fraction of the template's item and attribute look-ups, 50 rows a page (and a
    named tuple, immutable too, is made in a fraction of a frozen dataclass's time)."""

    ticket: QueueTicket
    sla: Sla
    assignee: str | None  # the assignee's name; None: unassigned, or ``mine``
    mine: bool  # assigned to the staff member reading the queue
    state: Markup
    priority: Markup
    category: Markup
    channel: Markup


def queue_row(
    ticket: QueueTicket, sla: Sla, names: Mapping[str, str], me: str, labels: QueueLabels
) -> QueueRow:
    assignee = ticket.assignee_id
    return QueueRow(
        ticket,
        sla,
        names.get(assignee) if assignee is not None and assignee != me else None,
        assignee == me,
        labels.status_badge[ticket.status],
        labels.priority_badge[ticket.priority],
        labels.category[ticket.category],
        labels.channel[ticket.channel],
    )


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _assignee_filter(value: str) -> str | None:
    """``me``, ``none`` (unassigned), a staff id, or None (anyone)."""
    return None if value in ("", "any") else value


@router.get("/tickets")
async def queue_page(
    request: Request,
    services: ServicesDep,
    staff: Supporter,
    *,
    status: Short = "",
    priority: Short = "",
    category: Short = "",
    channel: Short = "",
    assignee: Short = "",
    breached: Short = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    chosen = {
        "status": _one_of(status, TICKET_STATUSES) or "",
        "priority": _one_of(priority, TICKET_PRIORITIES) or "",
        "category": _one_of(category, TICKET_CATEGORIES) or "",
        "channel": _one_of(channel, TICKET_CHANNELS) or "",
        "assignee": _assignee_filter(assignee) or "",
        "breached": _one_of(breached, ("yes", "no")) or "",
    }
    filters = QueueFilter(
        status=chosen["status"] or None,
        priority=chosen["priority"] or None,
        category=chosen["category"] or None,
        channel=chosen["channel"] or None,
        assignee=chosen["assignee"] or None,
        breached={"yes": True, "no": False}.get(chosen["breached"]),
    )
    found = await desk.queue_desk(
        services, staff.actor(), filters=filters, limit=PAGE_SIZE, cursor=cursor
    )
    locale, now = locale_of(request), found.page.now
    names = {**{agent.staff_id: agent.name for agent in found.agents}, **found.names}
    labels = queue_labels(locale)
    rows = [
        queue_row(ticket, sla_of(ticket, now, locale), names, staff.staff_id, labels)
        for ticket in found.page.items
    ]
    kept = {name: value for name, value in chosen.items() if value}
    next_url = None
    if found.page.next_cursor is not None:
        next_url = "/console/tickets?" + urlencode({**kept, "cursor": found.page.next_cursor})
    return await console_page(
        request,
        services,
        QUEUE,
        rows=rows,
        labels=labels,
        chosen=chosen,
        agents=found.agents,
        statuses=TICKET_STATUSES,
        priorities=TICKET_PRIORITIES,
        categories=TICKET_CATEGORIES,
        channels=TICKET_CHANNELS,
        next_url=next_url,
        first_url=("/console/tickets?" + urlencode(kept)) if cursor else None,
        kept=kept,
        filtered=bool(kept),
    )


# One ticket.


async def _ticket_page(
    request: Request,
    services: Services,
    staff: StaffPrincipal,
    ticket_id: str,
    *,
    notice: str | None = None,
    canned_id: str | None = None,
    reply: str = "",
    note: str = "",
    error: str | None = None,
    error_in: str | None = None,
    chosen: Form | None = None,
    status_code: int = 200,
) -> Response:
    found: TicketDesk = await desk.ticket_desk(services, staff.actor(), ticket_id=ticket_id)
    thread = found.found.thread
    ticket = thread.ticket
    files: dict[str, list[object]] = {}
    for attachment in thread.attachments:
        files.setdefault(attachment.message_id, []).append(attachment)
    names = {**{agent.staff_id: agent.name for agent in found.agents}, **found.names}
    if canned_id:
        reply = next((c.text for c in found.canned_replies if c.id == canned_id), reply)
    return await console_page(
        request,
        services,
        TICKET,
        status_code=status_code,
        ticket=ticket,
        messages=thread.messages,
        files=files,
        names=names,
        sla=sla_of(ticket, found.found.now, locale_of(request)),
        canned=found.canned_replies,
        canned_id=canned_id or "",
        agents=found.agents,
        next_statuses=found.next_statuses,
        priorities=TICKET_PRIORITIES,
        categories=TICKET_CATEGORIES,
        closed=not found.next_statuses,
        notice=notice if notice in NOTICES else None,
        reply=reply,
        note=note,
        error=error,
        error_in=error_in,
        chosen=chosen,
    )


@router.get("/tickets/{ticket_id}")
async def ticket_page(
    ticket_id: str,
    request: Request,
    services: ServicesDep,
    staff: Supporter,
    *,
    done: Short = "",
    canned: Short = "",
) -> Response:
    """The ticket; ``?canned=<id>`` (the picker's "Use" without JavaScript) puts that
    canned reply's text, filled in for this ticket, into the reply box."""
    return await _ticket_page(
        request, services, staff, ticket_id, notice=done, canned_id=canned or None
    )


def _said(request: Request, error: DomainError, in_words: str) -> str:
    """A refusal next to a form; an empty or malformed field is said ``in_words`` (the
    service's own sentence names API fields)."""
    if error.code == "validation_error":
        return in_words
    return refusal(request, error)


@router.post("/tickets/{ticket_id}/reply")
async def send_reply(
    ticket_id: str, request: Request, form: ConsoleForm, services: ServicesDep, staff: Supporter
) -> Response:
    try:
        await desk.reply(
            services, staff.actor(), ticket_id=ticket_id, body=form["body"], canned_reply_id=None
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        words = _t("Write a reply before sending.", locale_of(request))
        return await _ticket_page(
            request,
            services,
            staff,
            ticket_id,
            reply=form["body"],
            error=_said(request, error, words),
            error_in="reply",
            status_code=error.status,
        )
    return see_other(f"/console/tickets/{ticket_id}?done=replied#latest")


@router.post("/tickets/{ticket_id}/note")
async def add_note(
    ticket_id: str, request: Request, form: ConsoleForm, services: ServicesDep, staff: Supporter
) -> Response:
    try:
        await desk.note(services, staff.actor(), ticket_id=ticket_id, body=form["body"])
    except DomainError as error:
        if error.code == "not_found":
            raise
        words = _t("Write the note before saving it.", locale_of(request))
        return await _ticket_page(
            request,
            services,
            staff,
            ticket_id,
            note=form["body"],
            error=_said(request, error, words),
            error_in="note",
            status_code=error.status,
        )
    return see_other(f"/console/tickets/{ticket_id}?done=noted#latest")


@router.post("/tickets/{ticket_id}/assign")
async def assign(
    ticket_id: str, request: Request, form: ConsoleForm, services: ServicesDep, staff: Supporter
) -> Response:
    """``assignee``: ``me``, a staff id, or empty (back to the queue)."""
    chosen = form.text("assignee")
    assignee_id = staff.staff_id if chosen == "me" else (chosen or None)
    try:
        await desk.assign(services, staff.actor(), ticket_id=ticket_id, assignee_id=assignee_id)
    except DomainError as error:
        if error.code == "not_found":
            raise
        return await _ticket_page(
            request,
            services,
            staff,
            ticket_id,
            error=refusal(request, error),
            error_in="assign",
            chosen=form,
            status_code=error.status,
        )
    return see_other(f"/console/tickets/{ticket_id}?done=assigned")


@router.post("/tickets/{ticket_id}/update")
async def update(
    ticket_id: str, request: Request, form: ConsoleForm, services: ServicesDep, staff: Supporter
) -> Response:
    """The state (empty: keep it), and the priority and category when they differ from the
    ones the form was shown with."""

    def changed(name: str) -> str | None:
        value = form.text(name)
        return value if value and value != form.text(f"shown_{name}") else None

    try:
        await desk.update(
            services,
            staff.actor(),
            ticket_id=ticket_id,
            status=form.text("status") or None,
            priority=changed("priority"),
            category=changed("category"),
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        words = _t("Choose a new state, priority or category first.", locale_of(request))
        return await _ticket_page(
            request,
            services,
            staff,
            ticket_id,
            error=_said(request, error, words),
            error_in="update",
            chosen=form,
            status_code=error.status,
        )
    return see_other(f"/console/tickets/{ticket_id}?done=updated")


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}")
async def attachment(
    ticket_id: str, attachment_id: str, services: ServicesDep, staff: Supporter
) -> Response:
    """A stored attachment, always as a download (as the staff API serves it); audited."""
    found = await desk.attachment(
        services, staff.actor(), ticket_id=ticket_id, attachment_id=attachment_id
    )
    safe_name = "".join(c for c in found.filename if c.isalnum() or c in "._-") or "attachment"
    return Response(
        found.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "X-Original-Content-Type": found.content_type,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
