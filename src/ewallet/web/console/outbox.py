"""Console pages: the outbox (``/console/outbox``) -- how SMS, email, webhooks and bill
deliveries are leaving, by topic and state, and the events given up on (dead), each with a
Replay button.

For operators (and admins), over the use cases of ``GET /v1/staff/outbox`` and
``POST /v1/staff/outbox/{id}/replay`` (:mod:`ewallet.ops.health.service`): an event is shown
by its topic and the ids it names, never its payload (an SMS holds a verification code), and
a replay is audited there. docs/operations.md says what each state means.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.ops.health import service as health
from ewallet.services import Services
from ewallet.web.console.auth import Operator
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.pages import refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

LIST_PATH: Final = "/console/outbox"
PAGE_SIZE: Final = 25
# Read as text: an id that is no number is simply no event (404), as for any other page.
EventId = Annotated[str, Path(max_length=20)]
MAX_EVENT_ID: Final = 2**63 - 1
# The topics the wallet writes today, for people; any other is shown by its name alone.
TOPIC_LABELS: Final = {
    "sms.send": N_("Text messages (SMS)"),
    "email.send": N_("Email"),
    "merchant.webhook": N_("Merchant notifications (webhooks)"),
    "bills.deliver": N_("Bill payments sent to billers"),
}


async def _outbox(
    request: Request,
    services: Services,
    *,
    topic: str,
    cursor: str | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    report = await health.outbox_health(
        services, topic=topic or None, limit=PAGE_SIZE, cursor=cursor
    )
    next_url = None
    if report.next_cursor is not None:
        query = {"topic": topic} if topic else {}
        next_url = f"{LIST_PATH}?" + urlencode({**query, "cursor": report.next_cursor})
    return await console_page(
        request,
        services,
        "console/outbox/health.html",
        status_code=status_code,
        report=report,
        topic=topic,
        next_url=next_url,
        first_page=cursor is None,
        topic_labels=TOPIC_LABELS,
        **context,
    )


@router.get("/outbox")
async def outbox_page(
    *,
    request: Request,
    staff: Operator,
    services: ServicesDep,
    topic: Annotated[str, Query(max_length=64)] = "",
    cursor: str | None = None,
    replayed: int | None = None,
) -> Response:
    """The outbox by topic and state, and the dead events (of one topic if chosen)."""
    return await _outbox(request, services, topic=topic, cursor=cursor or None, replayed=replayed)


@router.post("/outbox/{event_id}/replay")
async def replay_event(
    request: Request,
    event_id: EventId,
    staff: Operator,
    form: ConsoleForm,
    services: ServicesDep,
) -> Response:
    """Make a dead event due again; anything else is refused on the page, nothing changed."""
    number = int(event_id) if event_id.isascii() and event_id.isdigit() else 0
    try:
        await health.replay_outbox_event(
            services, staff, event_id=number if number <= MAX_EVENT_ID else 0
        )
    except DomainError as error:
        return await _outbox(
            request,
            services,
            topic="",
            cursor=None,
            status_code=error.status,
            error=refusal(request, error),
            replayed=None,
        )
    return see_other(f"{LIST_PATH}?replayed={number}")
