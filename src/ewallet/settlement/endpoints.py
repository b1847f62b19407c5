"""Settlement routes: the merchant's settlements and statements (merchant key), and the
payout accounts staff register for merchants and billers (operators; audit-logged).

A settlement of another merchant answers ``404 not_found``, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ewallet.http.deps import ServicesDep
from ewallet.http.downloads import CSV, PDF, download
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.merchants.deps import CurrentMerchant
from ewallet.models.settlement import PartyKind
from ewallet.settlement import service
from ewallet.settlement.schemas import (
    PayoutAccountEnvelope,
    PayoutAccountIn,
    PayoutAccountOut,
    SettlementEnvelope,
    SettlementOut,
    SettlementPage,
)
from ewallet.settlement.statements import statement_csv, statement_pdf
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import OPERATIONS
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/merchant/settlements", tags=["merchant", "settlement"])
staff_router = APIRouter(prefix="/v1/staff", tags=["staff", "settlement"])
Operator = Annotated[StaffPrincipal, Depends(require_permission(OPERATIONS))]


@router.get("", summary="The merchant's settlements, newest business day first")
async def list_settlements(
    *,
    merchant: CurrentMerchant,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SettlementPage:
    page = await service.list_settlements(
        services,
        party_kind=PartyKind.MERCHANT,
        party_id=merchant.merchant_id,
        limit=limit,
        cursor=cursor,
    )
    return SettlementPage(
        items=[SettlementOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )


@router.get("/{settlement_id}", summary="One settlement: the day's totals and its payout")
async def get_settlement(
    settlement_id: str, merchant: CurrentMerchant, services: ServicesDep
) -> SettlementEnvelope:
    view = await service.get_settlement(
        services,
        party_kind=PartyKind.MERCHANT,
        party_id=merchant.merchant_id,
        settlement_id=settlement_id,
    )
    return SettlementEnvelope(settlement=SettlementOut.of(view))


@router.get(
    "/{settlement_id}/statement.csv",
    summary="The settlement statement as CSV: each payment and refund, then the totals",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The statement"}},
)
async def get_statement_csv(
    settlement_id: str, merchant: CurrentMerchant, services: ServicesDep
) -> Response:
    statement = await service.get_statement(
        services,
        party_kind=PartyKind.MERCHANT,
        party_id=merchant.merchant_id,
        settlement_id=settlement_id,
    )
    day = statement.settlement.business_day
    return download(statement_csv(statement), media_type=CSV, filename=f"settlement-{day}.csv")


@router.get(
    "/{settlement_id}/statement.pdf",
    summary="The settlement statement as a PDF, Chinese and English",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The statement"}},
)
async def get_statement_pdf(
    settlement_id: str, merchant: CurrentMerchant, services: ServicesDep
) -> Response:
    statement = await service.get_statement(
        services,
        party_kind=PartyKind.MERCHANT,
        party_id=merchant.merchant_id,
        settlement_id=settlement_id,
    )
    day = statement.settlement.business_day
    return download(
        statement_pdf(statement), media_type=PDF, filename=f"settlement-{day}.pdf", inline=True
    )


@staff_router.put(
    "/merchants/{merchant_id}/payout-account",
    summary="Register where a merchant is paid: bank account number and holder (audited)",
)
async def put_merchant_payout_account(
    merchant_id: str, body: PayoutAccountIn, staff: Operator, services: ServicesDep
) -> PayoutAccountEnvelope:
    view = await service.set_payout_account(
        services,
        staff.actor(),
        party_kind=PartyKind.MERCHANT,
        party_id=merchant_id,
        account_number=body.account_number,
        holder_name=body.holder_name,
    )
    return PayoutAccountEnvelope(payout_account=PayoutAccountOut.of(view))


@staff_router.get("/merchants/{merchant_id}/payout-account", summary="A merchant's payout account")
async def get_merchant_payout_account(
    merchant_id: str, staff: Operator, services: ServicesDep
) -> PayoutAccountEnvelope:
    view = await service.get_payout_account(
        services, party_kind=PartyKind.MERCHANT, party_id=merchant_id
    )
    return PayoutAccountEnvelope(payout_account=PayoutAccountOut.of(view))


@staff_router.put(
    "/billers/{biller_id}/payout-account",
    summary="Register where a biller is paid: bank account number and holder (audited)",
)
async def put_biller_payout_account(
    biller_id: str, body: PayoutAccountIn, staff: Operator, services: ServicesDep
) -> PayoutAccountEnvelope:
    view = await service.set_payout_account(
        services,
        staff.actor(),
        party_kind=PartyKind.BILLER,
        party_id=biller_id,
        account_number=body.account_number,
        holder_name=body.holder_name,
    )
    return PayoutAccountEnvelope(payout_account=PayoutAccountOut.of(view))


@staff_router.get("/billers/{biller_id}/payout-account", summary="A biller's payout account")
async def get_biller_payout_account(
    biller_id: str, staff: Operator, services: ServicesDep
) -> PayoutAccountEnvelope:
    view = await service.get_payout_account(
        services, party_kind=PartyKind.BILLER, party_id=biller_id
    )
    return PayoutAccountEnvelope(payout_account=PayoutAccountOut.of(view))
