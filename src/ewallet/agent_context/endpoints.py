"""``/v1/staff/support/customers/{user_id}``: the agent's view of a customer, and freezing.

Support agents, risk officers and admins. The freeze routes are the agent console's door to
the staff freeze service (the same rules and audit events as ``/v1/staff/users/.../freeze``)
and answer with the refreshed context, so the console shows the new state at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ewallet.agent_context import service
from ewallet.agent_context.schemas import CustomerContextOut
from ewallet.http.deps import ServicesDep
from ewallet.staff.deps import require_roles
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.schemas import FreezeIn

router = APIRouter(prefix="/v1/staff/support/customers", tags=["agent context"])
Guard = Annotated[StaffPrincipal, Depends(require_roles("support_agent", "risk_officer"))]


@router.get("/{user_id}", summary="A customer's account, money, tickets and chats (audited)")
async def read_customer(user_id: str, staff: Guard, services: ServicesDep) -> CustomerContextOut:
    context = await service.customer_context(services, staff, user_id=user_id)
    return CustomerContextOut.of(context)


@router.post("/{user_id}/freeze", summary="Freeze the customer's account (with a reason)")
async def freeze_customer(
    user_id: str, body: FreezeIn, staff: Guard, services: ServicesDep
) -> CustomerContextOut:
    context = await service.freeze_customer(services, staff, user_id=user_id, reason=body.reason)
    return CustomerContextOut.of(context)


@router.post("/{user_id}/unfreeze", summary="Unfreeze the customer's account (with a reason)")
async def unfreeze_customer(
    user_id: str, body: FreezeIn, staff: Guard, services: ServicesDep
) -> CustomerContextOut:
    context = await service.unfreeze_customer(services, staff, user_id=user_id, reason=body.reason)
    return CustomerContextOut.of(context)
