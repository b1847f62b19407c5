"""The Orders pages: the merchant's orders with search and cursor paging, an order with its
payment figures, refunds and webhook deliveries, and refunding it (owners and managers;
the authenticator's code above ``merchant_refund_totp_above_minor``)."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.merchants.people.permissions import REFUNDING, SALES_READING
from ewallet.merchants.people.views import PortalUser
from ewallet.models.payments import OrderStatus
from ewallet.payments.orders.service import list_orders
from ewallet.payments.orders.views import OrderFilter
from ewallet.payments.portal_refunds import service as portal_refunds
from ewallet.web.kit.pages import refusal, see_other
from ewallet.web.merchant.auth import allowed
from ewallet.web.merchant.filters import day_start, yuan
from ewallet.web.merchant.forms import MerchantForm
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(prefix="/merchant/orders", route_class=MerchantRoute, include_in_schema=False)
OrderId = Annotated[str, Path(max_length=40)]
Reader = Annotated[PortalUser, Depends(allowed(SALES_READING))]
Refunder = Annotated[PortalUser, Depends(allowed(REFUNDING))]
PAGE_SIZE = 25
STATUSES = tuple(status.value for status in OrderStatus)


def new_refund_number() -> str:
    """A fresh ``out_refund_no`` for a refund made in the portal (one per form shown, so a
    form sent twice refunds once)."""
    return "portal-" + secrets.token_hex(8)


@router.get("")
async def orders_page(
    *,
    request: Request,
    services: ServicesDep,
    member: Reader,
    out_trade_no: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    amount_min: Annotated[str, Query(max_length=20)] = "",
    amount_max: Annotated[str, Query(max_length=20)] = "",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    search = {
        "out_trade_no": out_trade_no.strip(),
        "status": status,
        "from": date_from,
        "to": date_to,
        "amount_min": amount_min,
        "amount_max": amount_max,
    }
    try:
        if status and status not in STATUSES:
            raise ValidationFailedError("an order status", field="status")
        low, high = yuan(amount_min, "amount_min"), yuan(amount_max, "amount_max")
        wanted = OrderFilter(
            status=OrderStatus(status) if status else None,
            out_trade_no=search["out_trade_no"] or None,
            created_from=day_start(date_from, "from"),
            created_to=day_start(date_to, "to", next_day=True),
            amount_min=low.minor if low else None,
            amount_max=high.minor if high else None,
        )
        found = await list_orders(
            services, member.merchant_id, wanted=wanted, limit=PAGE_SIZE, cursor=cursor
        )
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/orders/list.html",
            status_code=error.status,
            orders=[],
            search=search,
            statuses=STATUSES,
            next_url=None,
            error=refusal(request, error),
        )
    next_url = None
    if found.next_cursor:
        kept = {key: value for key, value in search.items() if value}
        next_url = "/merchant/orders?" + urlencode({**kept, "cursor": found.next_cursor})
    return await merchant_page(
        request,
        services,
        "merchant/orders/list.html",
        orders=found.items,
        search=search,
        statuses=STATUSES,
        next_url=next_url,
        error=None,
    )


@router.get("/{order_id}")
async def order_page(
    request: Request,
    order_id: OrderId,
    services: ServicesDep,
    member: Reader,
    refunded: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    detail = await portal_refunds.order_detail(services, member, order_id=order_id)
    return await merchant_page(
        request,
        services,
        "merchant/orders/detail.html",
        detail=detail,
        may_refund=REFUNDING.allows(member.role),
        out_refund_no=new_refund_number(),
        refunded=refunded,
    )


@router.post("/{order_id}/refund")
async def refund(
    request: Request,
    order_id: OrderId,
    form: MerchantForm,
    services: ServicesDep,
    member: Refunder,
) -> Response:
    currency = form.text("currency") or "CNY"
    try:
        amount = yuan(form.text("amount"), "amount", currency)
        if amount is None:
            raise ValidationFailedError("the amount to refund", field="amount")
        made = await portal_refunds.refund_as_member(
            services,
            member,
            order_id=order_id,
            amount=amount,
            totp_code=form.text("totp_code") or None,
            out_refund_no=form.text("out_refund_no"),
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return await merchant_page(
            request,
            services,
            "merchant/orders/refund_refused.html",
            status_code=error.status,
            order_id=order_id,
            error=refusal(request, error),
        )
    return see_other(f"/merchant/orders/{order_id}?refunded={made.refund.id}")
