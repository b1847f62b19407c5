"""Topping up in the browser: ``/topup`` (from a bound card, with the payment password),
``/topup/alipay`` and ``/topup/wechat-pay`` (the PSP's order, paid on its pay page or by
scanning its QR code), ``/topup/counter`` (cash at a bank counter: what to bring, how it
goes; no form) and ``/topup/{id}`` (the result, shown honestly: a card debit the bank has not
answered yet is "processing", a PSP order not paid yet says how to pay it).

The same use cases as ``POST /v1/topups``: ``top_up_from_card``
(:mod:`ewallet.funding.topups.card.service`) and ``start_psp_topup``
(:mod:`ewallet.funding.topups.service`). Each form carries a
``form_key``: the same form posted twice (a double tap, a re-sent post) finds the top-up the
first post made, so the card is debited once and one PSP order is opened.
"""

from __future__ import annotations

import io
from typing import Annotated, Final

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from ewallet.cards.binding import service as binding
from ewallet.counter.service import counter_terms
from ewallet.funding.topups.card.service import top_up_from_card
from ewallet.funding.topups.service import get_topup, resume_psp_topup, start_psp_topup
from ewallet.http.deps import ServicesDep
from ewallet.integrations.psp import PspName
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.models.funding import CardStatus, TopupStatus
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import Form, PostedForm, form_request_key
from ewallet.web.kit.pages import PAGE_HEADERS, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CARD_FORM: Final = "wallet/topups/card.html"
PSP_FORM: Final = "wallet/topups/psp.html"
COUNTER: Final = "wallet/topups/counter.html"
RESULT: Final = "wallet/topups/result.html"
# The PSP top-up pages, by the path segment that names them.
PSPS: Final[dict[str, PspName]] = {"alipay": "alipay", "wechat-pay": "wechat_pay"}
# A top-up in these states may still change: its page watches for the change.
OPEN: Final = (TopupStatus.AWAITING_PAYMENT, TopupStatus.PENDING)


@router.get("/topup")
async def card_topup_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    card_id: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    found = await binding.list_cards(services, user.user_id)
    active = [card for card in found if card.status == CardStatus.ACTIVE]
    return await page(
        request, services, CARD_FORM, cards=active, amount="", chosen=card_id, tab="card"
    )


@router.post("/topup")
async def card_topup(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    amount, card_id = form.text("amount"), form.text("card_id")
    try:
        result = await top_up_from_card(
            services,
            user.user_id,
            actor_of(request, user),
            card_id=card_id,
            amount=parse_amount(amount),
            payment_password=form["payment_password"],
            request_key=form_request_key(user.user_id, form, "topup:card"),
        )
    except DomainError as error:
        found = await binding.list_cards(services, user.user_id)
        active = [card for card in found if card.status == CardStatus.ACTIVE]
        return await page(
            request,
            services,
            CARD_FORM,
            status_code=error.status,
            cards=active,
            amount=amount,
            chosen=card_id,
            tab="card",
            error=refusal(request, error),
        )
    return see_other(f"/topup/{result.topup.id}")


@router.get("/topup/counter")
async def counter_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await page(request, services, COUNTER, terms=counter_terms(services), tab="counter")


@router.get("/topup/alipay")
async def alipay_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await _psp_form(request, services, "alipay")


@router.get("/topup/wechat-pay")
async def wechat_pay_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await _psp_form(request, services, "wechat-pay")


async def _psp_form(request: Request, services: ServicesDep, channel: str) -> Response:
    return await page(request, services, PSP_FORM, method=PSPS[channel], amount="", tab=channel)


@router.post("/topup/alipay")
async def alipay_topup(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    return await _psp_topup(request, user, form, services, "alipay")


@router.post("/topup/wechat-pay")
async def wechat_pay_topup(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    return await _psp_topup(request, user, form, services, "wechat-pay")


async def _psp_topup(
    request: Request, user: WebUser, form: Form, services: ServicesDep, channel: str
) -> Response:
    """Open the PSP order (one per form: ``form_key``), then show where to pay it."""
    method = PSPS[channel]
    amount = form.text("amount")
    try:
        started = await start_psp_topup(
            services,
            user.user_id,
            method=method,
            amount=parse_amount(amount),
            request_key=form_request_key(user.user_id, form, f"topup:{method}"),
        )
    except DomainError as error:
        return await page(
            request,
            services,
            PSP_FORM,
            status_code=error.status,
            method=method,
            amount=amount,
            tab=channel,
            error=refusal(request, error),
        )
    return see_other(f"/topup/{started.topup.id}")


@router.get("/topup/{topup_id}")
async def topup_page(
    request: Request, topup_id: str, user: WebUser, services: ServicesDep
) -> Response:
    """One of the user's top-ups (``not_found`` for anyone else's); while a PSP order waits
    for payment, where to pay it: its pay link and QR code."""
    started = await resume_psp_topup(services, user.user_id, topup_id=topup_id)
    payment = started.payment
    qr = None if payment is None or not payment.qr_code else qr_svg(payment.qr_code)
    return await page(
        request,
        services,
        RESULT,
        topup=started.topup,
        payment=payment,
        qr=qr,
        watching=started.topup.status in OPEN,
    )


@router.get("/topup/{topup_id}/status")
async def topup_status(
    request: Request, topup_id: str, user: WebUser, services: ServicesDep
) -> Response:
    """For the result page's watch (htmx, every few seconds): ``204`` while the top-up is
    as it was, else a full refresh of the page, which then shows the outcome."""
    topup = await get_topup(services, user.user_id, topup_id=topup_id)
    if topup.status in OPEN:
        return Response(status_code=204, headers=PAGE_HEADERS)
    return Response(status_code=204, headers={**PAGE_HEADERS, "HX-Refresh": "true"})


def qr_svg(text: str) -> Markup:
    """``text`` as an inline SVG QR code (no style attribute: the CSP allows none)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        border=2,
        svgclass="qr-svg",
        lineclass=None,
    )
    return Markup(out.getvalue().decode())  # noqa: S704 -- segno's own markup, no user text
