"""Console pages: maintenance windows (``/console/maintenance``) -- the windows in force and
to come, scheduling one (start and end in Beijing time, an optional message for customers)
and cancelling one.

For operators (and admins), over the same use cases as ``/v1/staff/maintenance-windows``
(:mod:`ewallet.ops.service`): its rules (the end after the start, the start not in the past)
and its audit events (``maintenance.scheduled``, ``maintenance.cancelled``). While a window
is in force every wallet page shows its message and writes are refused (docs/security.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import Locale
from ewallet.ops import service as maintenance
from ewallet.risk.limits import CHINA_TIME
from ewallet.services import Services
from ewallet.web.console.auth import Operator
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.forms import Form
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

LIST_PATH: Final = "/console/maintenance"
TEMPLATE: Final = "console/maintenance/windows.html"
LOCAL_FORMAT: Final = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> posts
MESSAGE_MAX: Final = 500
DEFAULT_LENGTH: Final = timedelta(hours=1)
DONE: Final = frozenset({"scheduled", "cancelled"})
WindowId = Annotated[str, Path(max_length=32)]


def local_input(moment: datetime) -> str:
    """``moment`` as a ``datetime-local`` value in Beijing time."""
    return moment.astimezone(CHINA_TIME).strftime(LOCAL_FORMAT)


def parse_local(value: str) -> datetime | None:
    """A ``datetime-local`` value read as Beijing time, in UTC; None if it is not one."""
    try:
        naive = datetime.strptime(value, LOCAL_FORMAT)  # noqa: DTZ007 -- Beijing time, below
    except ValueError:
        return None
    return naive.replace(tzinfo=CHINA_TIME).astimezone(UTC)


def _defaults(services: Services) -> dict[str, str]:
    """A window starting now and lasting an hour, as the form proposes it."""
    start = services.clock.now().replace(second=0, microsecond=0)
    return {
        "starts_at": local_input(start),
        "ends_at": local_input(start + DEFAULT_LENGTH),
        "message": "",
    }


def _field_messages(locale: Locale) -> dict[str, str]:
    return {
        "starts_at": _t("Enter the start as a date and time in Beijing time.", locale),
        "ends_at": _t("Enter the end as a date and time in Beijing time.", locale),
        "message": _t("Keep the message to 500 characters or fewer.", locale),
        "ends_before": _t("The end must come after the start.", locale),
        "past": _t("The start is in the past: start now or later.", locale),
    }


async def _windows_page(
    request: Request,
    services: Services,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    done: str = "",
    **context: Any,
) -> Response:
    windows = await maintenance.list_windows(services)
    return await console_page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        windows=windows,
        now=services.clock.now(),
        values=values or _defaults(services),
        field_errors=field_errors or {},
        done=done,
        **context,
    )


@router.get("/maintenance")
async def windows_page(
    request: Request, staff: Operator, services: ServicesDep, done: str = ""
) -> Response:
    """The windows in force and to come, and the form to schedule one."""
    return await _windows_page(request, services, done=done if done in DONE else "")


def _read_window(form: Form, locale: Locale) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted window (times in UTC) and a message for each field that is not usable."""
    messages = _field_messages(locale)
    starts_at = parse_local(form.text("starts_at"))
    ends_at = parse_local(form.text("ends_at"))
    message = form.text("message")
    errors: dict[str, str] = {}
    if starts_at is None:
        errors["starts_at"] = messages["starts_at"]
    if ends_at is None:
        errors["ends_at"] = messages["ends_at"]
    if len(message) > MESSAGE_MAX:
        errors["message"] = messages["message"]
    window = {"starts_at": starts_at, "ends_at": ends_at, "message": message or None}
    return window, errors


@router.post("/maintenance")
async def schedule_window(
    request: Request, staff: Operator, form: ConsoleForm, services: ServicesDep
) -> Response:
    """Schedule a window; a refusal shows the form again with what was typed."""
    locale = locale_of(request)
    values = {name: form.text(name) for name in ("starts_at", "ends_at", "message")}
    window, field_errors = _read_window(form, locale)
    if field_errors:
        return await _windows_page(
            request,
            services,
            status_code=422,
            values=values,
            field_errors=field_errors,
            error=_t("Check the highlighted fields.", locale),
        )
    try:
        await maintenance.schedule_window(services, staff, **window)
    except DomainError as error:
        messages = _field_messages(locale)
        if error.code == "validation_error":
            # The service checks the end first, then the start (ops.service.schedule_window).
            if window["ends_at"] <= window["starts_at"]:
                field_errors = {"ends_at": messages["ends_before"]}
            else:
                field_errors = {"starts_at": messages["past"]}
            message = _t("Check the highlighted fields.", locale)
        else:
            message = refusal(request, error)
        return await _windows_page(
            request,
            services,
            status_code=error.status,
            values=values,
            field_errors=field_errors,
            error=message,
        )
    return see_other(f"{LIST_PATH}?done=scheduled")


@router.post("/maintenance/{window_id}/cancel")
async def cancel_window(
    request: Request,
    window_id: WindowId,
    staff: Operator,
    form: ConsoleForm,
    services: ServicesDep,
) -> Response:
    """Cancel a window that has not ended: one in force ends at once."""
    try:
        await maintenance.cancel_window(services, staff, window_id=window_id)
    except DomainError as error:
        return await _windows_page(
            request, services, status_code=error.status, error=refusal(request, error)
        )
    return see_other(f"{LIST_PATH}?done=cancelled")
