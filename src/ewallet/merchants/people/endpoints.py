"""``/v1/staff/merchants/{merchant_id}/users``: staff create and list a merchant's people.

Operators and admins (``OPERATIONS``); creation is audit-logged by the service. The answer
carrying the one-time password is ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from ewallet.http.deps import ServicesDep
from ewallet.merchants.people import service
from ewallet.merchants.people.schemas import (
    MerchantUserCreatedOut,
    MerchantUserCreateIn,
    MerchantUserList,
    MerchantUserOut,
)
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import OPERATIONS
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff/merchants/{merchant_id}/users", tags=["staff", "merchants"])
Operator = Annotated[StaffPrincipal, Depends(require_permission(OPERATIONS))]
MerchantId = Annotated[str, Path(max_length=32)]


@router.post("", status_code=201, summary="Add a person to a merchant: a one-time password")
async def create_merchant_user(
    merchant_id: MerchantId,
    body: MerchantUserCreateIn,
    staff: Operator,
    response: Response,
    services: ServicesDep,
) -> MerchantUserCreatedOut:
    created = await service.create_user(
        services,
        staff.actor(),
        merchant_id=merchant_id,
        email=body.email,
        name=body.name,
        role=body.role,
    )
    response.headers["Cache-Control"] = "no-store"
    return MerchantUserCreatedOut(
        user=MerchantUserOut.of(created.user), one_time_password=created.one_time_password
    )


@router.get("", summary="A merchant's people, oldest first")
async def list_merchant_users(
    merchant_id: MerchantId, staff: Operator, services: ServicesDep
) -> MerchantUserList:
    users = await service.list_users(services, merchant_id=merchant_id)
    return MerchantUserList(items=[MerchantUserOut.of(user) for user in users])
