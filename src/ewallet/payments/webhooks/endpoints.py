"""``GET /v1/merchant/webhook-deliveries``: the calling merchant's webhook delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.merchants.deps import CurrentMerchant
from ewallet.payments.webhooks import service
from ewallet.payments.webhooks.schemas import DeliveryOut, DeliveryPage

router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])


@router.get("/webhook-deliveries", summary="Webhook delivery attempts, newest first")
async def webhook_deliveries(
    merchant: CurrentMerchant,
    services: ServicesDep,
    order_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DeliveryPage:
    page = await service.list_deliveries(
        services, merchant.merchant_id, order_id=order_id, limit=limit, cursor=cursor
    )
    return DeliveryPage(
        items=[DeliveryOut.of(item) for item in page.items], next_cursor=page.next_cursor
    )
