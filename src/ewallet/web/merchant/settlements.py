"""The Settlements page: the merchant's daily settlements, newest first, with each day's
statement as CSV and PDF. Owners and managers (``SETTLEMENTS``); another merchant's
settlement is ``404``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.http.downloads import CSV, PDF, download
from ewallet.merchants.people.permissions import SETTLEMENTS
from ewallet.merchants.people.views import PortalUser
from ewallet.models.settlement import PartyKind
from ewallet.settlement import service as settlement
from ewallet.settlement.statements import statement_csv, statement_pdf
from ewallet.web.merchant.auth import allowed
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(
    prefix="/merchant/settlements", route_class=MerchantRoute, include_in_schema=False
)
Accountant = Annotated[PortalUser, Depends(allowed(SETTLEMENTS))]
SettlementId = Annotated[str, Path(max_length=40)]
PAGE_SIZE = 30


@router.get("")
async def settlements_page(
    request: Request,
    services: ServicesDep,
    member: Accountant,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    found = await settlement.list_settlements(
        services,
        party_kind=PartyKind.MERCHANT,
        party_id=member.merchant_id,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    next_url = f"/merchant/settlements?cursor={found.next_cursor}" if found.next_cursor else None
    return await merchant_page(
        request,
        services,
        "merchant/settlements/list.html",
        settlements=found.items,
        next_url=next_url,
    )


@router.get("/{settlement_id}/statement.csv")
async def statement_as_csv(
    settlement_id: SettlementId, services: ServicesDep, member: Accountant
) -> Response:
    statement = await settlement.get_statement(
        services,
        party_kind=PartyKind.MERCHANT,
        party_id=member.merchant_id,
        settlement_id=settlement_id,
    )
    day = statement.settlement.business_day
    return download(statement_csv(statement), media_type=CSV, filename=f"settlement-{day}.csv")


@router.get("/{settlement_id}/statement.pdf")
async def statement_as_pdf(
    settlement_id: SettlementId, services: ServicesDep, member: Accountant
) -> Response:
    statement = await settlement.get_statement(
        services,
        party_kind=PartyKind.MERCHANT,
        party_id=member.merchant_id,
        settlement_id=settlement_id,
    )
    day = statement.settlement.business_day
    return download(statement_pdf(statement), media_type=PDF, filename=f"settlement-{day}.pdf")
