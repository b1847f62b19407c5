"""Console pages: the hotline desk -- call-backs due today and a phone call logged as a ticket.

``/console/callbacks`` lists the requested call-backs whose window starts before midnight in
Asia/Shanghai, overdue ones first (the same use case as ``GET /v1/staff/support/callbacks``:
the number in full, because the agent must dial it; every listing audited), each with a
"done" form taking what came of the call. ``/console/calls/new`` logs a call the agent took
(``POST /v1/staff/support/calls``): a ticket on the caller's account when the number has
one, else on the number alone, and the agent lands on that ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Final, Literal, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.callbacks import service as hotline
from ewallet.callbacks.service import CallOutcome
from ewallet.callbacks.views import CallbackView
from ewallet.help.views import CHINA_TIME
from ewallet.http.deps import ServicesDep
from ewallet.kit.clock import as_utc
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.models.support import TICKET_CATEGORIES
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.web.console.auth import Supporter
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

DUE: Final = "console/callbacks/due.html"
NEW_CALL: Final = "console/callbacks/new_call.html"
LIMIT: Final = 100
OUTCOMES: Final = ("resolved", "follow_up", "escalated")


@dataclass(frozen=True, slots=True)
class DueRow:
    callback: CallbackView
    when: Literal["overdue", "now", "later"]


def _until_midnight(now: datetime) -> timedelta:
    """From ``now`` to the end of today in Asia/Shanghai."""
    today = now.astimezone(CHINA_TIME).date()
    midnight = datetime.combine(today + timedelta(days=1), time(0), CHINA_TIME)
    return midnight - now


def _when(callback: CallbackView, now: datetime) -> Literal["overdue", "now", "later"]:
    if as_utc(callback.preferred_to) <= now:
        return "overdue"
    return "now" if as_utc(callback.preferred_from) <= now else "later"


async def _due_page(
    request: Request,
    services: Services,
    staff: StaffPrincipal,
    *,
    notice: bool = False,
    error: str | None = None,
    error_for: str | None = None,
    outcome: str = "",
    status_code: int = 200,
) -> Response:
    now = services.clock.now()
    due = await hotline.due_callbacks(
        services, staff.actor(), within=_until_midnight(now), limit=LIMIT
    )
    rows = [DueRow(callback, _when(callback, now)) for callback in due]
    rows.sort(key=lambda row: row.when != "overdue")  # stable: earliest first within each
    if error_for not in {row.callback.id for row in rows}:
        error_for = None  # done meanwhile (another tab, a colleague): said above the list
    return await console_page(
        request,
        services,
        DUE,
        status_code=status_code,
        rows=rows,
        full=len(rows) >= LIMIT,
        notice=notice,
        error=error,
        error_for=error_for,
        outcome=outcome,
    )


@router.get("/callbacks")
async def due_callbacks(
    request: Request,
    services: ServicesDep,
    staff: Supporter,
    done: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    return await _due_page(request, services, staff, notice=done == "1")


@router.post("/callbacks/{callback_id}/done")
async def callback_done(
    callback_id: str,
    request: Request,
    form: ConsoleForm,
    services: ServicesDep,
    staff: Supporter,
) -> Response:
    try:
        if not form.text("outcome"):
            raise ValidationFailedError("outcome must not be empty")
        await hotline.complete_callback(
            services, staff.actor(), callback_id=callback_id, outcome=form.text("outcome")[:500]
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        if error.code == "validation_error":
            said = _t("Say what came of the call before marking it done.", locale_of(request))
        else:
            said = refusal(request, error)
        return await _due_page(
            request,
            services,
            staff,
            error=said,
            error_for=callback_id,
            outcome=form["outcome"],
            status_code=error.status,
        )
    return see_other("/console/callbacks?done=1")


def _call_form(**typed: str) -> dict[str, Any]:
    return {
        "categories": TICKET_CATEGORIES,
        "outcomes": OUTCOMES,
        "phone": typed.get("phone", ""),
        "category": typed.get("category", ""),
        "outcome": typed.get("outcome", ""),
        "summary": typed.get("summary", ""),
    }


@router.get("/calls/new")
async def new_call(request: Request, services: ServicesDep, staff: Supporter) -> Response:
    return await console_page(request, services, NEW_CALL, error_in=None, **_call_form())


@router.post("/calls/new")
async def log_call(
    request: Request, form: ConsoleForm, services: ServicesDep, staff: Supporter
) -> Response:
    typed = {name: form[name] for name in ("phone", "category", "outcome", "summary")}
    category, outcome, summary = form.text("category"), form.text("outcome"), form.text("summary")
    locale = locale_of(request)
    missing = None
    if category and category not in TICKET_CATEGORIES:
        missing = ("category", _t("Choose a category from the list.", locale))
    elif outcome not in OUTCOMES:
        missing = ("outcome", _t("Choose how the call ended.", locale))
    elif not summary:
        missing = ("summary", _t("Write what the caller asked and what you did.", locale))
    if missing is not None:
        return await _call_page(request, services, typed, *missing, status_code=422)
    try:
        logged = await hotline.log_call(
            services,
            staff.actor(),
            phone=form.text("phone"),
            summary=summary[:4000],
            category=category or None,
            outcome=cast(CallOutcome, outcome),
        )
    except DomainError as error:
        where = "phone" if error.code == "invalid_phone" else "summary"
        return await _call_page(
            request, services, typed, where, refusal(request, error), status_code=error.status
        )
    return see_other(f"/console/tickets/{logged.ticket_id}?done=logged")


async def _call_page(
    request: Request,
    services: Services,
    typed: dict[str, str],
    error_in: str,
    error: str,
    *,
    status_code: int,
) -> Response:
    """The form again, as typed, with ``error`` next to the field ``error_in``."""
    return await console_page(
        request,
        services,
        NEW_CALL,
        status_code=status_code,
        error=error,
        error_in=error_in,
        **_call_form(**typed),
    )
