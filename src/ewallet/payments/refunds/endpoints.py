"""``POST /v1/merchant/orders/{order_id}/refunds``: the calling merchant refunds its order."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent
from ewallet.merchants.deps import CurrentMerchant, MerchantAuthenticated
from ewallet.payments.refunds import service
from ewallet.payments.refunds.schemas import RefundEnvelope, RefundIn, RefundOut
from ewallet.payments.schemas import OrderOut, parse_amount

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
