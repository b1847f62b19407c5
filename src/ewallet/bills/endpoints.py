"""``/v1/billers``, ``/v1/bills/lookup``, ``/v1/bill-payments``: the biller directory, bill
look-ups, paying a bill and its receipt (signed-in users; docs/bills.md).

The router's lifespan writes the default billers that are missing when the app starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response

from ewallet.audit.service import Actor
from ewallet.bills import service
from ewallet.bills.receipts import receipt_pdf
from ewallet.bills.schemas import (
    BillerList,
    BillerOut,
    BillLookupIn,
    BillLookupOut,
    BillPaymentEnvelope,
    BillPaymentIn,
    BillPaymentOut,
    BillPaymentPendingOut,
    ReceiptOut,
)
from ewallet.http.deps import ServicesDep, app_services
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.integrations.biller.directory import Category
from ewallet.kit.amounts import parse_amount
from ewallet.models.bills import BillPaymentStatus
from ewallet.models.card_payments import FundingSource


@asynccontextmanager
async def _bills_running(app: FastAPI) -> AsyncIterator[None]:
    await service.seed_directory(app_services(app))
    yield


router = APIRouter(prefix="/v1", tags=["bills"], lifespan=_bills_running)


@router.get("/billers", summary="The biller directory, optionally one category")
async def get_billers(
    _user: CurrentUser, services: ServicesDep, category: Category | None = None
) -> BillerList:
    billers = await service.list_billers(services, category=category)
    return BillerList(items=[BillerOut.of(spec) for spec in billers])


@router.post("/bills/lookup", summary="The current bill of an account at a biller (masked holder)")
async def post_lookup(
    body: BillLookupIn, _user: CurrentUser, services: ServicesDep
) -> BillLookupOut:
    bill = await service.lookup_bill(services, biller_id=body.biller_id, account_no=body.account_no)
    return BillLookupOut.of(bill)


@router.post(
    "/bill-payments",
    status_code=201,
    summary=(
        "Pay a bill or top up a phone from the balance, a bound card or both (PIN, limits; "
        "202 operation_pending while the biller confirms or the bank answers, 202 "
        "under_review while risk control holds it, docs/risk-review.md)"
    ),
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": BillPaymentPendingOut}},
)
async def post_bill_payment(
    *,
    body: BillPaymentIn,
    request: Request,
    user: CurrentUser,
    caller: CallerDep,
    services: ServicesDep,
    request_key: RequestKeyDep,
    response: Response,
) -> BillPaymentPendingOut | BillPaymentEnvelope:
    amount = parse_amount(body.amount)
    client_ip = request.client.host if request.client else None
    payment = await service.pay_bill(
        services,
        Actor("user", user.user_id, client_ip),
        user_id=user.user_id,
        biller_id=body.biller_id,
        account_no=body.account_no,
        amount=amount,
        payment_password=body.payment_password,
        caller=caller,
        request_key=request_key,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
        funding_source=FundingSource(body.funding.source if body.funding else "balance"),
        card_id=None if body.funding is None else body.funding.card_id,
    )
    if payment.status == BillPaymentStatus.PENDING:
        response.status_code = 202
        return BillPaymentPendingOut(bill_payment=BillPaymentOut.of(payment))
    if payment.under_review:
        response.status_code = 202
        return BillPaymentPendingOut(code="under_review", bill_payment=BillPaymentOut.of(payment))
    return BillPaymentEnvelope(bill_payment=BillPaymentOut.of(payment))


@router.get("/bill-payments/{payment_id}", summary="One of the caller's bill payments")
async def get_one_payment(
    payment_id: str, user: CurrentUser, services: ServicesDep
) -> BillPaymentEnvelope:
    payment = await service.get_bill_payment(services, user.user_id, payment_id=payment_id)
    return BillPaymentEnvelope(bill_payment=BillPaymentOut.of(payment))


@router.get(
    "/bill-payments/{payment_id}/receipt",
    summary="The receipt of a completed bill payment (JSON, or ?format=pdf)",
    response_model=ReceiptOut,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_payment_receipt(
    payment_id: str,
    user: CurrentUser,
    services: ServicesDep,
    format: Annotated[Literal["json", "pdf"], Query()] = "json",  # noqa: A002 -- the API's name
) -> ReceiptOut | Response:
    receipt = await service.get_receipt(services, user.user_id, payment_id=payment_id)
    if format == "pdf":
        return Response(
            receipt_pdf(receipt),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{receipt.receipt_no}.pdf"'},
        )
    return ReceiptOut.of(receipt)
