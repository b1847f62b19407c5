"""The merchant API's payment links (``Authorization: Bearer mk_...``) and the page a payer
opens (``/l/<token>``).

The API routes see only the calling merchant's links: another merchant's link id answers
``404 not_found``. The page (:mod:`.page`) shows the link; its form makes the order
(:func:`~ewallet.payments.payment_links.service.open_link`) and sends the payer on to the
existing checkout page, which pays it exactly as any order.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError, NotFoundError
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.merchants.deps import CurrentMerchant
from ewallet.merchants.views import MerchantPrincipal
from ewallet.payments.links import CHECKOUT_PATH, PAYMENT_LINK_PATH, payment_link_url
from ewallet.payments.payment_links import service
from ewallet.payments.payment_links.page import render
from ewallet.payments.payment_links.schemas import (
    PaymentLinkCreateIn,
    PaymentLinkEnvelope,
    PaymentLinkListOut,
    PaymentLinkOut,
)
from ewallet.payments.payment_links.views import PaymentLinkView
from ewallet.payments.schemas import parse_amount
from ewallet.services import Services

router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])
page_router = APIRouter(prefix=PAYMENT_LINK_PATH, tags=["payment links"], include_in_schema=False)

MAX_FORM_BYTES: Final = 1024


def _actor(request: Request, merchant: MerchantPrincipal) -> Actor:
    return Actor("merchant", merchant.merchant_id, request.client.host if request.client else None)


def _out(services: Services, view: PaymentLinkView) -> PaymentLinkOut:
    return PaymentLinkOut.of(view, url=payment_link_url(services.settings, view.token))


@router.post(
    "/payment-links", status_code=201, summary="Make a payment link (fixed or open amount)"
)
async def create_payment_link(
    body: PaymentLinkCreateIn, request: Request, merchant: CurrentMerchant, services: ServicesDep
) -> PaymentLinkEnvelope:
    link = service.LinkRequest(
        subject=body.subject,
        amount=None if body.amount is None else parse_amount(body.amount, body.currency),
        currency=body.currency,
        out_trade_prefix=body.out_trade_prefix,
        expires_at=body.expires_at,
        max_uses=body.max_uses,
    )
    view = await service.create_link(
        services, _actor(request, merchant), merchant.merchant_id, request=link
    )
    return PaymentLinkEnvelope(payment_link=_out(services, view))


@router.get("/payment-links", summary="The merchant's payment links, newest first")
async def list_payment_links(
    merchant: CurrentMerchant,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PaymentLinkListOut:
    page = await service.list_links(services, merchant.merchant_id, limit=limit, cursor=cursor)
    return PaymentLinkListOut(
        items=[_out(services, view) for view in page.items], next_cursor=page.next_cursor
    )


@router.get("/payment-links/{link_id}", summary="One of the merchant's payment links")
async def get_payment_link(
    link_id: str, merchant: CurrentMerchant, services: ServicesDep
) -> PaymentLinkEnvelope:
    view = await service.get_link(services, merchant.merchant_id, link_id=link_id)
    return PaymentLinkEnvelope(payment_link=_out(services, view))


@router.post(
    "/payment-links/{link_id}/disable", summary="Disable a payment link for good (idempotent)"
)
async def disable_payment_link(
    link_id: str, request: Request, merchant: CurrentMerchant, services: ServicesDep
) -> PaymentLinkEnvelope:
    view = await service.disable_link(
        services, _actor(request, merchant), merchant.merchant_id, link_id=link_id
    )
    return PaymentLinkEnvelope(payment_link=_out(services, view))


def _not_found() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>404</title><p>Not found</p>", status_code=404)


@page_router.get("/{token}", response_class=HTMLResponse)
async def link_page(token: str, request: Request, services: ServicesDep) -> Response:
    try:
        link = await service.link_for_payer(services, token=token)
    except NotFoundError:
        return _not_found()
    return render(request, link, status_code=200 if link.usable else 410)


async def _typed_amount(request: Request) -> str | None:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=5)
    value = fields.get("amount", [""])[0].strip()
    return value or None


@page_router.post("/{token}", response_class=HTMLResponse)
async def open_link(token: str, request: Request, services: ServicesDep) -> Response:
    typed = await _typed_amount(request)
    try:
        amount = None if typed is None else parse_amount(typed)
        order = await service.open_link(services, token=token, amount=amount)
    except NotFoundError:
        return _not_found()
    except DomainError as error:
        try:
            link = await service.link_for_payer(services, token=token)
        except NotFoundError:
            return _not_found()
        return render(request, link, status_code=error.status, error=error, typed=typed or "")
    return RedirectResponse(f"{CHECKOUT_PATH}/{order.id}", status_code=303)
