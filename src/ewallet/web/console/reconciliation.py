"""Console pages: reconciliation (``/console/reconciliation``) -- the runs, starting one,
following it live, and its findings with what to do about each.

Operators (and admins) start runs; risk officers read them (the same permissions as
``/v1/staff/reconciliation-runs``). A run started here goes on in the background
(:mod:`ewallet.reconciliation.background`) and its page polls a small progress fragment
every second (htmx) until the run ends, then reloads with the findings; with JavaScript off
the page offers a Refresh link instead.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.reconciliation import background
from ewallet.reconciliation import service as reconciliation
from ewallet.risk.limits import CHINA_TIME
from ewallet.staff.permissions import OPERATIONS
from ewallet.web.console.auth import Operator, ReconReader
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

LIST_PATH: Final = "/console/reconciliation"
RECENT: Final = 30
RunId = Annotated[str, Path(max_length=40)]


def _yesterday(services: ServicesDep) -> date:
    return services.clock.now().astimezone(CHINA_TIME).date() - timedelta(days=1)


@router.get("/reconciliation")
async def runs_page(request: Request, services: ServicesDep, staff: ReconReader) -> Response:
    runs = await reconciliation.list_runs(services, staff.actor(), day=None, limit=RECENT)
    return await console_page(
        request,
        services,
        "console/reconciliation/runs.html",
        runs=runs,
        may_start=OPERATIONS.allows(staff.role),
        day=_yesterday(services).isoformat(),
        now=services.clock.now(),
        is_stalled=background.is_stalled,
    )


@router.post("/reconciliation")
async def start_run(
    request: Request, form: ConsoleForm, services: ServicesDep, staff: Operator
) -> Response:
    typed = form.text("day")
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        error = _t("Enter the business day as a date, such as 2026-03-01.")
    else:
        try:
            run_id = await background.start_reconciliation(services, staff.actor(), day=day)
        except DomainError as refused:
            error = refusal(request, refused)
        else:
            return see_other(f"{LIST_PATH}/{run_id}")
    runs = await reconciliation.list_runs(services, staff.actor(), day=None, limit=RECENT)
    return await console_page(
        request,
        services,
        "console/reconciliation/runs.html",
        status_code=422,
        runs=runs,
        may_start=True,
        day=typed,
        now=services.clock.now(),
        is_stalled=background.is_stalled,
        error=error,
    )


@router.get("/reconciliation/{run_id}")
async def run_page(
    request: Request, services: ServicesDep, staff: ReconReader, run_id: RunId
) -> Response:
    run, items = await reconciliation.get_run(services, staff.actor(), run_id=run_id)
    return await console_page(
        request,
        services,
        "console/reconciliation/run.html",
        run=run,
        actionable=[item for item in items if item.needs_action],
        settled=[item for item in items if not item.needs_action],
        stalled=background.is_stalled(run, services.clock.now()),
    )


@router.get("/reconciliation/{run_id}/progress")
async def run_progress(
    request: Request, services: ServicesDep, staff: ReconReader, run_id: RunId
) -> Response:
    """The progress fragment the run page polls; once the run has ended, htmx is told to
    reload the whole page (which then shows the findings)."""
    run, _ = await reconciliation.get_run(services, staff.actor(), run_id=run_id)
    response = await console_page(
        request,
        services,
        "console/reconciliation/progress.html",
        run=run,
        stalled=background.is_stalled(run, services.clock.now()),
    )
    if run.status != "running":
        response.headers["HX-Refresh"] = "true"
    return response
