"""Console page: the development outbox -- the SMS and mail the wallet "sent" while it runs
in development, where nothing leaves the machine (``EWALLET_SMS_PROVIDER=outbox``, no
``EWALLET_SMTP_URL``).

Newest first, filtered by a phone number or an email address. The filter is posted, not put
in the URL: a phone number never goes into an address bar, a log line or the history. For
operators (and admins); in production the page does not exist (``404`` before anything
else, whoever asks), as ``ewallet dev outbox`` refuses there too. The reading is
:mod:`ewallet.notify.dev_outbox.service`'s, the command's own.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.notify.dev_outbox.service import captured_messages, require_development
from ewallet.notify.dev_outbox.views import CapturedMessages
from ewallet.web.console.auth import Operator
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

OUTBOX: Final = "console/dev_outbox/outbox.html"
SHOWN: Final = 50


async def development_only(services: ServicesDep) -> None:
    require_development(services)


InDevelopment = Depends(development_only)


@router.get("/dev/outbox", dependencies=[InDevelopment])
async def outbox(request: Request, staff: Operator, services: ServicesDep) -> Response:
    """Every kind of message, newest first."""
    found = await captured_messages(services, limit=SHOWN)
    return await console_page(request, services, OUTBOX, found=found, to="")


@router.post("/dev/outbox", dependencies=[InDevelopment])
async def filtered(
    request: Request, staff: Operator, form: ConsoleForm, services: ServicesDep
) -> Response:
    """Messages to one phone number (texts) or email address (mail)."""
    to = form.text("to")
    try:
        found = await captured_messages(services, recipient=to, limit=SHOWN)
    except DomainError as error:
        message = _t("Enter a mobile number or an email address.", locale_of(request))
        return await console_page(
            request,
            services,
            OUTBOX,
            status_code=error.status,
            found=CapturedMessages(),
            to=to,
            error=message,
        )
    return await console_page(request, services, OUTBOX, found=found, to=to)
