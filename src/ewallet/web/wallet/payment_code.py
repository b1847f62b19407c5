"""The payment code's live parts: the code fragment that refreshes itself, the charges waiting
for the payment password (arriving live), and confirming or declining one.

- ``/pay/code``: the code alone (barcode, digits, QR image), which the pay page swaps in
  every 60 seconds with htmx and whenever a charge used it;
- ``/pay/events``: server-sent events. The stream polls the user's charges (one cheap
  read a second, :func:`~ewallet.payments.payment_codes.service.confirmations.activity_mark`)
  and sends ``change`` when they change -- a merchant charged the code, a charge waits for
  the PIN, one was confirmed, declined or ran out. The event says nothing else: the page
  (``static/wallet/pay.js``) then fetches ``/pay/live`` and ``/pay/code``. Each stream
  ends after :data:`STREAM_SECONDS` and the browser reconnects (with the last mark as
  ``Last-Event-ID``), so a signed-out browser stops getting events within that time;
- ``/pay/confirmations/{id}``: one charge (the page a notice or a browser without
  JavaScript goes to), confirmed with the payment password as ``POST
  /v1/me/payment-code/confirmations/{id}`` does, or declined;
- ``/pay/funding``: where charges take the money from (balance first, then a card; or all
  from a card), as ``PUT /v1/me/payment-code/funding`` sets it -- a plain form.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.models.payment_codes import CodeFundingSource
from ewallet.payments.payment_codes.codec import qr_svg
from ewallet.payments.payment_codes.service import codes, confirmations, funding
from ewallet.payments.payment_codes.views import IssuedCode
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.barcode import barcode_svg
from ewallet.web.kit.forms import PostedForm, form_request_key
from ewallet.web.kit.pages import PAGE_HEADERS, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

STREAM_SECONDS: Final = 30.0
POLL_SECONDS: Final = 1.0
KEEP_ALIVE_SECONDS: Final = 10.0
RETRY_MILLISECONDS: Final = 1000
VISIBLE_DIGITS: Final = 4


PAY_PATH: Final = "/pay"
FUNDING_PATH: Final = "/pay/funding"


def _from_htmx(request: Request) -> bool:
    """A fragment is for htmx; a browser opening its URL gets the whole page instead."""
    return request.headers.get("hx-request") == "true"


def receipt_url(payment_id: str) -> str:
    return f"/pay/receipts/{payment_id}"


def _grouped(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def code_context(issued: IssuedCode) -> dict[str, Any]:
    """What the code fragment (``wallet/pay/_code.html``) shows of ``issued``."""
    hidden = "•" * (len(issued.code) - VISIBLE_DIGITS)
    return {
        "code": issued,
        "qr": Markup(qr_svg(issued.code)),  # noqa: S704 -- segno's own SVG, digits only
        "barcode": Markup(barcode_svg(issued.code)),  # noqa: S704 -- ours, digits only
        "digits": _grouped(issued.code),
        "masked": _grouped(issued.code[:VISIBLE_DIGITS] + hidden),
    }


@router.get("/pay/code")
async def code_fragment(request: Request, user: WebUser, services: ServicesDep) -> Response:
    """The code alone, for htmx to swap in (a refusal: the message in its place)."""
    if not _from_htmx(request):
        return see_other(PAY_PATH)
    try:
        issued = await codes.issue_code(services, user.user_id)
    except DomainError as error:
        return await page(
            request,
            services,
            "wallet/pay/_code.html",
            status_code=error.status,
            refused=refusal(request, error),
        )
    return await page(
        request, services, "wallet/pay/_code.html", refused=None, **code_context(issued)
    )


@router.get("/pay/live")
async def live_fragment(request: Request, user: WebUser, services: ServicesDep) -> Response:
    """The charges waiting for the payment password, and the one just paid."""
    if not _from_htmx(request):
        return see_other(PAY_PATH)
    activity = await confirmations.activity(services, user.user_id)
    return await page(request, services, "wallet/pay/_live.html", activity=activity)


@router.get("/pay/events")
async def events(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    since: str = "",
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Server-sent events: ``change`` whenever the user's charges change (module doc)."""
    if "text/event-stream" not in request.headers.get("accept", ""):
        return see_other(PAY_PATH)  # not an EventSource: the page itself
    user_id = user.user_id
    seen = (last_event_id or since)[:64]

    async def stream() -> AsyncIterator[str]:
        nonlocal seen
        loop = asyncio.get_running_loop()
        started = last_sent = loop.time()
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        while loop.time() - started < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            mark = await confirmations.activity_mark(services, user_id)
            if mark != seen:
                seen = mark
                last_sent = loop.time()
                yield f"id: {mark}\nevent: change\ndata: {mark}\n\n"
            elif loop.time() - last_sent >= KEEP_ALIVE_SECONDS:
                last_sent = loop.time()
                yield ": still here\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {**PAGE_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def _confirmation_page(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    challenge_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    charge = await confirmations.charge_of_user(services, user.user_id, challenge_id=challenge_id)
    return await page(
        request,
        services,
        "wallet/pay/confirm.html",
        status_code=status_code,
        charge=charge,
        error=error,
    )


@router.get("/pay/confirmations/{challenge_id}")
async def confirmation(
    challenge_id: str, request: Request, user: WebUser, services: ServicesDep
) -> Response:
    return await _confirmation_page(request, services, user, challenge_id)


@router.post("/pay/confirmations/{challenge_id}")
async def confirm(
    challenge_id: str, request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """Pay a waiting charge with the payment password; the same form posted twice pays once."""
    try:
        payment = await confirmations.confirm(
            services,
            actor_of(request, user),
            user_id=user.user_id,
            challenge_id=challenge_id,
            pin=form["payment_password"],
            request_key=form_request_key(user.user_id, form, f"confirm-charge:{challenge_id}"),
        )
    except DomainError as error:
        return await _confirmation_page(
            request,
            services,
            user,
            challenge_id,
            status_code=error.status,
            error=refusal(request, error),
        )
    return see_other(receipt_url(payment.id))


@router.post("/pay/confirmations/{challenge_id}/decline")
async def decline(
    challenge_id: str, request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """Refuse a waiting charge: nothing is paid, the merchant sees the order expired."""
    try:
        await confirmations.decline(
            services, actor_of(request, user), user_id=user.user_id, challenge_id=challenge_id
        )
    except DomainError as error:
        return await _confirmation_page(
            request,
            services,
            user,
            challenge_id,
            status_code=error.status,
            error=refusal(request, error),
        )
    return see_other(f"{PAY_PATH}?declined=1")


async def _funding_page(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    *,
    saved: bool = False,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    return await page(
        request,
        services,
        "wallet/pay/funding.html",
        status_code=status_code,
        setting=await funding.get_funding(services, user.user_id),
        cards=await funding.active_cards(services, user.user_id),
        saved=saved,
        error=error,
    )


@router.get(FUNDING_PATH)
async def funding_page(
    request: Request, user: WebUser, services: ServicesDep, saved: str = ""
) -> Response:
    return await _funding_page(request, services, user, saved=saved == "1")


@router.post(FUNDING_PATH)
async def change_funding(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """``source`` is ``balance_first`` or ``card:<card id>`` (one radio group)."""
    chosen = form.text("source")
    source, _, card_id = chosen.partition(":")
    try:
        if source not in set(CodeFundingSource):
            raise ValidationFailedError("choose where the money comes from")
        await funding.set_funding(
            services,
            actor_of(request, user),
            user_id=user.user_id,
            source=CodeFundingSource(source),
            card_id=card_id or None,
        )
    except DomainError as error:
        return await _funding_page(
            request, services, user, status_code=error.status, error=refusal(request, error)
        )
    return see_other(f"{FUNDING_PATH}?saved=1")
