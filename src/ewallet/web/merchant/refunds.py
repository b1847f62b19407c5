"""The Refunds page: the merchant's refunds, newest first, searched by refund number, order
and China-time days, a page at a time. Owners and managers (``REFUNDING``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.merchants.people.permissions import REFUNDING
from ewallet.merchants.people.views import PortalUser
from ewallet.payments.refunds.service import list_refunds
from ewallet.payments.views import RefundFilter
from ewallet.web.kit.pages import refusal
from ewallet.web.merchant.auth import allowed
from ewallet.web.merchant.filters import day_start
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(prefix="/merchant/refunds", route_class=MerchantRoute, include_in_schema=False)
Refunder = Annotated[PortalUser, Depends(allowed(REFUNDING))]
PAGE_SIZE = 25


@router.get("")
async def refunds_page(
    *,
    request: Request,
    services: ServicesDep,
    member: Refunder,
    out_refund_no: Annotated[str, Query(max_length=64)] = "",
    order_id: Annotated[str, Query(max_length=40)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    search = {
        "out_refund_no": out_refund_no.strip(),
        "order_id": order_id.strip(),
        "from": date_from,
        "to": date_to,
    }
    try:
        wanted = RefundFilter(
            order_id=search["order_id"] or None,
            out_refund_no=search["out_refund_no"] or None,
            created_from=day_start(date_from, "from"),
            created_to=day_start(date_to, "to", next_day=True),
        )
        found = await list_refunds(
            services, member.merchant_id, wanted=wanted, limit=PAGE_SIZE, cursor=cursor
        )
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/refunds/list.html",
            status_code=error.status,
            refunds=[],
            search=search,
            next_url=None,
            error=refusal(request, error),
        )
    next_url = None
    if found.next_cursor:
        kept = {key: value for key, value in search.items() if value}
        next_url = "/merchant/refunds?" + urlencode({**kept, "cursor": found.next_cursor})
    return await merchant_page(
        request,
        services,
        "merchant/refunds/list.html",
        refunds=found.items,
        search=search,
        next_url=next_url,
        error=None,
    )
