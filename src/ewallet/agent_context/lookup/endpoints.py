"""``/v1/staff/customers`` and ``/v1/staff/money-lookup``: customer service look-ups.

Support agents, risk officers and admins (``ACCOUNT_GUARD``). Each route parses, makes one
service call (which masks by role and writes the audit event) and shapes the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ewallet.agent_context import service
from ewallet.agent_context.lookup import service as lookup
from ewallet.agent_context.lookup.schemas import MoneyLookupOut
from ewallet.agent_context.schemas import CustomerSearchOut
from ewallet.http.deps import LocaleDep, ServicesDep
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import ACCOUNT_GUARD
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff", tags=["customer service look-ups"])
Guard = Annotated[StaffPrincipal, Depends(require_permission(ACCOUNT_GUARD))]
Text = Annotated[str | None, Query(max_length=64)]


@router.get("/customers", summary="Find a customer by phone number, id or ticket (audited)")
async def find_customers(
    *,
    staff: Guard,
    services: ServicesDep,
    phone: Annotated[str | None, Query(max_length=32, description="typed any usual way")] = None,
    user_id: Text = None,
    ticket: Annotated[str | None, Query(max_length=64, description="TKT-... or its id")] = None,
    q: Annotated[
        str | None, Query(max_length=64, description="any of the three (or a chat id), guessed")
    ] = None,
) -> CustomerSearchOut:
    found = await service.find_customers(
        services, staff, phone=phone, user_id=user_id, ticket=ticket, query=q
    )
    return CustomerSearchOut.of(found)


@router.get(
    "/money-lookup",
    summary="A payment, order, refund, transfer, top-up or withdrawal by id or order number",
)
async def money_lookup(
    *,
    staff: Guard,
    services: ServicesDep,
    locale: LocaleDep,
    q: Annotated[
        str | None, Query(max_length=64, description="an id of ours, else an out_trade_no")
    ] = None,
    out_trade_no: Text = None,
    merchant_id: Text = None,
) -> MoneyLookupOut:
    found = await lookup.look_up_money(
        services,
        staff,
        query=q,
        out_trade_no=out_trade_no,
        merchant_id=merchant_id,
        locale=locale,
    )
    return MoneyLookupOut.of(found)
