"""The merchant's self-service (``Authorization: Bearer mk_...``): ``GET /v1/merchant/account``,
``PUT /v1/merchant/webhook``, ``POST /v1/merchant/keys/rotate``. A merchant reaches only its
own record: there is no id in these paths."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ewallet.http.deps import ServicesDep
from ewallet.merchants.account import service
from ewallet.merchants.account.schemas import (
    AccountEnvelope,
    AccountOut,
    RotatedKeyOut,
    WebhookIn,
)
from ewallet.merchants.deps import CurrentMerchant

router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/account", summary="The calling merchant's record (credentials masked)")
async def get_account(merchant: CurrentMerchant, services: ServicesDep) -> AccountEnvelope:
    view = await service.get_account(services, merchant_id=merchant.merchant_id)
    return AccountEnvelope(account=AccountOut.of(view))


@router.put("/webhook", summary="Set the merchant's default webhook URL")
async def set_webhook(
    body: WebhookIn, request: Request, merchant: CurrentMerchant, services: ServicesDep
) -> AccountEnvelope:
    view = await service.set_webhook_url(
        services,
        service.merchant_actor(merchant.merchant_id, _ip(request)),
        merchant_id=merchant.merchant_id,
        url=body.url,
    )
    return AccountEnvelope(account=AccountOut.of(view))


@router.post("/keys/rotate", summary="A new API key, shown once; the calling key stops now")
async def rotate_key(
    request: Request, merchant: CurrentMerchant, services: ServicesDep
) -> RotatedKeyOut:
    view, key = await service.rotate_key(
        services,
        service.merchant_actor(merchant.merchant_id, _ip(request)),
        merchant_id=merchant.merchant_id,
    )
    return RotatedKeyOut(api_key=key, account=AccountOut.of(view))
