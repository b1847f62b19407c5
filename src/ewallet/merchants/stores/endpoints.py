"""``/v1/merchant/stores``: a merchant's stores, with its API key (docs/static-qr.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.merchants.deps import CurrentMerchant
from ewallet.merchants.stores import service
from ewallet.merchants.stores.schemas import StoreEnvelope, StoreIn, StoreList, StoreOut

router = APIRouter(prefix="/v1/merchant/stores", tags=["merchants"])


@router.post("", status_code=201, summary="Open a store (its static QR code comes with it)")
async def create_store(
    body: StoreIn, merchant: CurrentMerchant, services: ServicesDep, request: Request
) -> StoreEnvelope:
    ip = request.client.host if request.client else None
    store = await service.create_store(
        services,
        Actor("merchant", merchant.merchant_id, ip),
        merchant_id=merchant.merchant_id,
        name=body.name,
        address=body.address,
    )
    return StoreEnvelope(store=StoreOut.of(store))


@router.get("", summary="The merchant's stores, oldest first")
async def list_stores(merchant: CurrentMerchant, services: ServicesDep) -> StoreList:
    stores = await service.list_stores(services, merchant_id=merchant.merchant_id)
    return StoreList(items=[StoreOut.of(store) for store in stores])


@router.get("/{store_id}", summary="One of the merchant's stores")
async def read_store(
    store_id: str, merchant: CurrentMerchant, services: ServicesDep
) -> StoreEnvelope:
    store = await service.get_store(services, merchant_id=merchant.merchant_id, store_id=store_id)
    return StoreEnvelope(store=StoreOut.of(store))
