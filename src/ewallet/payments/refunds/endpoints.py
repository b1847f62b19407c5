"""``POST /v1/merchant/orders/{order_id}/refunds``: the calling merchant refunds its order;
``GET /v1/merchant/refunds``: its refunds, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.merchants.deps import CurrentMerchant, MerchantAuthenticated
from ewallet.payments.refunds import service
from ewallet.payments.refunds.schemas import RefundEnvelope, RefundIn, RefundOut, RefundPage
from ewallet.payments.schemas import OrderOut, parse_amount
from ewallet.payments.views import RefundFilter

router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])


@router.post(
    "/orders/{order_id}/refunds",
    status_code=201,
    summary="Refund a paid order, fully or partly (idempotent by out_refund_no: 200 again)",
    dependencies=[MerchantAuthenticated, Idempotent],
    responses={200: {"model": RefundEnvelope, "description": "the refund already existed"}},
)
async def refund_order(
    order_id: str,
    body: RefundIn,
    merchant: CurrentMerchant,
    response: Response,
    services: ServicesDep,
) -> RefundEnvelope:
    refund, order, created = await service.refund_order(
        services,
        merchant.merchant_id,
        order_id=order_id,
        amount=parse_amount(body.amount),
        out_refund_no=body.out_refund_no,
    )
    if not created:
        response.status_code = 200
    return RefundEnvelope(refund=RefundOut.of(refund), order=OrderOut.of(order))


@router.get("/refunds", summary="The merchant's refunds, newest first (filters, cursor)")
async def list_refunds(
    *,
    merchant: CurrentMerchant,
    services: ServicesDep,
    order_id: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    out_refund_no: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: Annotated[Literal["succeeded"] | None, Query()] = None,
    created_from: Annotated[datetime | None, Query(description="inclusive, with offset")] = None,
    created_to: Annotated[datetime | None, Query(description="exclusive, with offset")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> RefundPage:
    wanted = RefundFilter(
        order_id=order_id,
        out_refund_no=out_refund_no,
        status=status,
        created_from=created_from,
        created_to=created_to,
    )
    page = await service.list_refunds(
        services, merchant.merchant_id, wanted=wanted, limit=limit, cursor=cursor
    )
    return RefundPage(
        items=[RefundOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )
