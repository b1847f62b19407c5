"""``/v1/staff/support/customers/{user_id}``: the agent's view of a customer, their
transactions a page at a time, and freezing.

Support agents, risk officers and admins. The freeze routes are the agent console's door to
the staff freeze service (the same rules and audit events as ``/v1/staff/users/.../freeze``)
and answer with the refreshed context, so the console shows the new state at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ewallet.agent_context import service
from ewallet.agent_context.schemas import CustomerContextOut, CustomerTransactionsOut
from ewallet.http.deps import LocaleDep, ServicesDep
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import ACCOUNT_GUARD
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.schemas import FreezeIn

router = APIRouter(prefix="/v1/staff/support/customers", tags=["agent context"])
Guard = Annotated[StaffPrincipal, Depends(require_permission(ACCOUNT_GUARD))]


@router.get("/{user_id}", summary="A customer's account, money, tickets and chats (audited)")
async def read_customer(
    user_id: str, staff: Guard, services: ServicesDep, locale: LocaleDep
) -> CustomerContextOut:
    context = await service.customer_context(services, staff, user_id=user_id, locale=locale)
    return CustomerContextOut.of(context)


@router.get("/{user_id}/transactions", summary="A customer's transactions, a page at a time")
async def read_customer_transactions(
    user_id: str,
    staff: Guard,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CustomerTransactionsOut:
    page = await service.customer_transactions(
        services, staff, user_id=user_id, limit=limit, cursor=cursor
    )
    return CustomerTransactionsOut.of(page)


@router.post("/{user_id}/freeze", summary="Freeze the customer's account (with a reason)")
async def freeze_customer(
    user_id: str, body: FreezeIn, staff: Guard, services: ServicesDep, locale: LocaleDep
) -> CustomerContextOut:
    context = await service.freeze_customer(
        services, staff, user_id=user_id, reason=body.reason, locale=locale
    )
    return CustomerContextOut.of(context)


@router.post("/{user_id}/unfreeze", summary="Unfreeze the customer's account (with a reason)")
async def unfreeze_customer(
    user_id: str, body: FreezeIn, staff: Guard, services: ServicesDep, locale: LocaleDep
) -> CustomerContextOut:
    context = await service.unfreeze_customer(
        services, staff, user_id=user_id, reason=body.reason, locale=locale
    )
    return CustomerContextOut.of(context)
