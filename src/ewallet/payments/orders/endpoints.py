"""The merchant API's orders (``Authorization: Bearer mk_...``): create, read, close.

Every route depends on :data:`~ewallet.merchants.deps.CurrentMerchant` and sees only the
calling merchant's orders: another merchant's order id answers ``404 not_found``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.merchants.deps import CurrentMerchant
from ewallet.models.payments import OrderStatus
from ewallet.payments.links import checkout_url
from ewallet.payments.orders import service
from ewallet.payments.orders.schemas import OrderCreatedOut, OrderCreateIn, OrderListOut
from ewallet.payments.orders.views import OrderFilter
from ewallet.payments.schemas import OrderEnvelope, OrderOut, parse_amount

router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])


@router.post(
    "/orders",
    status_code=201,
    summary="Create an order (the same out_trade_no and content again: the order, 200)",
    responses={200: {"model": OrderCreatedOut, "description": "the order already existed"}},
)
async def create_order(
    body: OrderCreateIn, merchant: CurrentMerchant, response: Response, services: ServicesDep
) -> OrderCreatedOut:
    request = service.OrderRequest(
        out_trade_no=body.out_trade_no,
        amount=parse_amount(body.amount, body.currency),
        subject=body.subject,
        notify_url=body.notify_url,
        expires_in=body.expires_in,
    )
    view, created = await service.create_order(services, merchant.merchant_id, request=request)
    if not created:
        response.status_code = 200
    url = checkout_url(services.settings, view.id)
    return OrderCreatedOut(order=OrderOut.of(view), qr_payload=url, checkout_url=url)


@router.get("/orders", summary="The merchant's orders, newest first (filters, cursor)")
async def list_orders(
    *,
    merchant: CurrentMerchant,
    services: ServicesDep,
    status: Annotated[OrderStatus | None, Query(description="the status as shown")] = None,
    out_trade_no: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    created_from: Annotated[datetime | None, Query(description="inclusive, with offset")] = None,
    created_to: Annotated[datetime | None, Query(description="exclusive, with offset")] = None,
    amount_min: Annotated[str | None, Query(max_length=32, description="yuan, inclusive")] = None,
    amount_max: Annotated[str | None, Query(max_length=32, description="yuan, inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> OrderListOut:
    wanted = OrderFilter(
        status=status,
        out_trade_no=out_trade_no,
        created_from=created_from,
        created_to=created_to,
        amount_min=None if amount_min is None else parse_amount(amount_min).minor,
        amount_max=None if amount_max is None else parse_amount(amount_max).minor,
    )
    page = await service.list_orders(
        services, merchant.merchant_id, wanted=wanted, limit=limit, cursor=cursor
    )
    return OrderListOut(
        items=[OrderOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )


@router.get("/orders/{order_id}", summary="One of the merchant's orders")
async def get_order(
    order_id: str, merchant: CurrentMerchant, services: ServicesDep
) -> OrderEnvelope:
    view = await service.get_order(services, merchant.merchant_id, order_id=order_id)
    return OrderEnvelope(order=OrderOut.of(view))


@router.post("/orders/{order_id}/close", summary="Close an unpaid order (idempotent)")
async def close_order(
    order_id: str, merchant: CurrentMerchant, services: ServicesDep
) -> OrderEnvelope:
    view = await service.close_order(services, merchant.merchant_id, order_id=order_id)
    return OrderEnvelope(order=OrderOut.of(view))
