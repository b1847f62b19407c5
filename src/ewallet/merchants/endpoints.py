"""``/v1/staff/merchants``: list and create merchants, change their settings, list their API
keys and replace them all at once (the emergency rotation).

Admins and operators only; each change is audit-logged by the service. Answers that carry
credentials are ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.merchants import service
from ewallet.merchants.schemas import (
    KeyRotatedOut,
    MerchantCreatedOut,
    MerchantCreateIn,
    MerchantEnvelope,
    MerchantOut,
    MerchantPage,
    MerchantUpdateIn,
    StaffApiKeyList,
    StaffApiKeyOut,
)
from ewallet.merchants.service import MAX_SEARCH
from ewallet.models.merchants import MerchantStatus
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import OPERATIONS
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff/merchants", tags=["staff", "merchants"])
Operator = Annotated[StaffPrincipal, Depends(require_permission(OPERATIONS))]
NO_STORE = {"Cache-Control": "no-store"}


@router.get("", summary="Merchants newest first: search by id or name, filter by status")
async def list_merchants(
    *,
    staff: Operator,
    services: ServicesDep,
    q: Annotated[
        str | None, Query(max_length=MAX_SEARCH, description="a merchant id or part of a name")
    ] = None,
    status: Literal["active", "disabled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> MerchantPage:
    page = await service.list_merchants(
        services,
        search=q,
        status=None if status is None else MerchantStatus(status),
        limit=limit,
        cursor=cursor,
    )
    return MerchantPage(
        items=[MerchantOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, summary="Create a merchant: its API key and webhook secret")
async def create_merchant(
    body: MerchantCreateIn, staff: Operator, response: Response, services: ServicesDep
) -> MerchantCreatedOut:
    created = await service.create_merchant(
        services,
        staff.actor(),
        name=body.name,
        category=body.category,
        accepts_wallet=body.accepts_wallet,
        webhook_url=body.webhook_url,
    )
    response.headers.update(NO_STORE)
    return MerchantCreatedOut(
        merchant=MerchantOut.of(created.merchant),
        api_key=created.api_key,
        webhook_secret=created.webhook_secret,
    )


@router.get("/{merchant_id}", summary="One merchant")
async def get_merchant(
    merchant_id: str, staff: Operator, services: ServicesDep
) -> MerchantEnvelope:
    view = await service.get_merchant(services, merchant_id=merchant_id)
    return MerchantEnvelope(merchant=MerchantOut.of(view))


@router.patch(
    "/{merchant_id}", summary="Change a merchant: wallet acceptance, status, webhook, fee terms"
)
async def update_merchant(
    merchant_id: str, body: MerchantUpdateIn, staff: Operator, services: ServicesDep
) -> MerchantEnvelope:
    view = await service.update_merchant(
        services, staff.actor(), merchant_id=merchant_id, changes=body.changes()
    )
    return MerchantEnvelope(merchant=MerchantOut.of(view))


@router.get("/{merchant_id}/keys", summary="The merchant's API keys (never a secret part)")
async def list_keys(merchant_id: str, staff: Operator, services: ServicesDep) -> StaffApiKeyList:
    keys = await service.list_api_keys(services, merchant_id=merchant_id)
    return StaffApiKeyList(data=[StaffApiKeyOut.of(key) for key in keys])


@router.post(
    "/{merchant_id}/rotate-key",
    summary="Emergency: revoke every active API key and issue one new key",
)
async def rotate_key(
    merchant_id: str, staff: Operator, response: Response, services: ServicesDep
) -> KeyRotatedOut:
    view, api_key = await service.rotate_api_key(services, staff.actor(), merchant_id=merchant_id)
    response.headers.update(NO_STORE)
    return KeyRotatedOut(merchant=MerchantOut.of(view), api_key=api_key)
