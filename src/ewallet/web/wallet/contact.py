"""Contact us: ``/help/contact`` -- the hotline as a ``tel:`` link with its hours, online
chat and email, and (signed in) call-back requests: book one, see them, cancel one.

The same use cases as ``GET /v1/help/contact`` and ``/v1/support/callbacks``: the hours
come from ``EWALLET_SUPPORT_HOURS``, and the call-back rules (a window still ahead, within
one opening period, at most so many days ahead and so many open requests) are the
callbacks service's. The form offers a day and an hour-long slot of the hotline's hours
(:func:`ewallet.callbacks.service.callback_desk` cuts them), preselecting the first slot
still ahead; the account's number is the default and shown masked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.callbacks import service as callbacks
from ewallet.callbacks.views import Slot
from ewallet.help import service as help_service
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, web_principal
from ewallet.web.kit.forms import Form, PostedForm
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PATH: Final = "/help/contact"
TEMPLATE: Final = "wallet/help/contact.html"
LISTED: Final = 10  # call-back requests shown


@router.get(PATH)
async def contact_page(
    request: Request,
    services: ServicesDep,
    done: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Public; a signed-in customer also gets the call-back form and their requests."""
    principal = await web_principal(request, services)
    notice = done if done in ("booked", "cancelled") else None
    if principal is None:
        contact = await help_service.contact(services, locale=locale_of(request))
        return await page(request, services, TEMPLATE, contact=contact, desk=None, notice=None)
    return await _desk_page(request, services, principal.user_id, notice=notice)


async def _desk_page(
    request: Request,
    services: Services,
    user_id: str,
    *,
    notice: str | None = None,
    form: Form | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    desk = await callbacks.callback_desk(services, user_id, locale=locale_of(request), limit=LISTED)
    if form is not None:
        chosen_day, chosen_slot = form["day"], form["slot"]
    elif desk.suggested is not None:
        chosen_day, chosen_slot = desk.suggested[0].isoformat(), desk.suggested[1].label
    else:
        chosen_day, chosen_slot = "", ""
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        contact=desk.contact,
        desk=desk,
        notice=notice,
        error=error,
        chosen_day=chosen_day,
        chosen_slot=chosen_slot,
        topic=form.text("topic") if form is not None else "",
        other_phone=form.text("phone") if form is not None else "",
    )


@router.post(PATH)
async def request_callback(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    try:
        start, end = _window(form["day"], form["slot"])
        await callbacks.request_callback(
            services,
            user.user_id,
            preferred_from=start,
            preferred_to=end,
            topic=form.text("topic"),
            phone=form.text("phone") or None,
        )
    except DomainError as error:
        return await _desk_page(
            request,
            services,
            user.user_id,
            form=form,
            error=_callback_refusal(request, error),
            status_code=error.status,
        )
    return see_other(f"{PATH}?done=booked#callbacks")


def _window(day: str, slot: str) -> tuple[datetime, datetime]:
    """The chosen day and slot as the request's window; malformed ones are refused."""
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        raise ValidationFailedError("choose a day") from None
    return Slot.parse(slot).window(chosen)


def _callback_refusal(request: Request, error: DomainError) -> str:
    """The refusal for the form; a window or topic the service refused is said in the
    reader's words (the service's own sentence is for logs: it names API fields)."""
    if error.code == "validation_error":
        return _t(
            "Choose a time that is still ahead and within the hotline's hours, "
            "and say what the call is about.",
            locale_of(request),
        )
    return refusal(request, error)


@router.post(PATH + "/callbacks/{callback_id}/cancel")
async def cancel_callback(
    callback_id: str, request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """Cancel an open request; another customer's is ``not_found`` (a 404 page)."""
    try:
        await callbacks.cancel_callback(services, user.user_id, callback_id=callback_id)
    except DomainError as error:
        if error.code == "not_found":
            raise
        return await _desk_page(
            request,
            services,
            user.user_id,
            error=refusal(request, error),
            status_code=error.status,
        )
    return see_other(f"{PATH}?done=cancelled#callbacks")
