"""The merchant's self-service (``Authorization: Bearer mk_...``): ``GET /v1/merchant/account``,
``PUT /v1/merchant/webhook``, its API keys (``GET``/``POST /v1/merchant/keys``,
``DELETE /v1/merchant/keys/{key_id}``, ``POST /v1/merchant/keys/rotate``). A merchant
reaches only its own record and keys: another merchant's key id is ``404``. Answers that
carry a key are ``Cache-Control: no-store``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ewallet.http.deps import ServicesDep
from ewallet.merchants.account import service
from ewallet.merchants.account.schemas import (
    AccountEnvelope,
    AccountOut,
    KeyIn,
    KeyListOut,
    MerchantKeyOut,
    NewKeyOut,
    RotatedKeyOut,
    WebhookIn,
)
from ewallet.merchants.deps import CurrentMerchant

router = APIRouter(prefix="/v1/merchant", tags=["merchant API"])
NO_STORE = {"Cache-Control": "no-store"}
KeyId = Annotated[str, Path(max_length=24, description="the key's id (its public part)")]


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


@router.get("/keys", summary="The merchant's API keys: active first, then recently revoked")
async def list_keys(merchant: CurrentMerchant, services: ServicesDep) -> KeyListOut:
    keys = await service.list_keys(services, merchant_id=merchant.merchant_id)
    return KeyListOut(data=[MerchantKeyOut.mine(key, merchant.key_id) for key in keys])


@router.post("/keys", status_code=201, summary="A new API key with a label, shown once")
async def create_key(
    body: KeyIn,
    request: Request,
    response: Response,
    merchant: CurrentMerchant,
    services: ServicesDep,
) -> NewKeyOut:
    issued = await service.create_key(
        services,
        service.merchant_actor(merchant.merchant_id, _ip(request)),
        merchant_id=merchant.merchant_id,
        label=body.label,
        via_key=merchant.key_id,
    )
    response.headers.update(NO_STORE)
    return NewKeyOut(api_key=issued.api_key, key=MerchantKeyOut.mine(issued.key, merchant.key_id))


@router.delete("/keys/{key_id}", summary="Revoke one of the merchant's API keys at once")
async def revoke_key(
    key_id: KeyId, request: Request, merchant: CurrentMerchant, services: ServicesDep
) -> MerchantKeyOut:
    revoked = await service.revoke_key(
        services,
        service.merchant_actor(merchant.merchant_id, _ip(request)),
        merchant_id=merchant.merchant_id,
        key_id=key_id,
        via_key=merchant.key_id,
    )
    return MerchantKeyOut.mine(revoked, merchant.key_id)


@router.post(
    "/keys/rotate",
    summary="Rotate the calling key: a new key with its label, shown once; the calling key "
    "stops now",
)
async def rotate_key(
    request: Request, response: Response, merchant: CurrentMerchant, services: ServicesDep
) -> RotatedKeyOut:
    view, issued = await service.rotate_key(
        services,
        service.merchant_actor(merchant.merchant_id, _ip(request)),
        merchant_id=merchant.merchant_id,
        key_id=merchant.key_id or "",
        via_key=merchant.key_id,
    )
    response.headers.update(NO_STORE)
    return RotatedKeyOut(
        api_key=issued.api_key,
        key=MerchantKeyOut.mine(issued.key, merchant.key_id),
        account=AccountOut.of(view),
    )
