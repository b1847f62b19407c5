"""``/v1/billers``, ``/v1/bills/lookup``, ``/v1/bill-payments``: the biller directory, bill
look-ups, paying a bill and its receipt (signed-in users; docs/bills.md).

The router's lifespan writes the default billers that are missing and opens the biller
gateway (``app.state.biller_gateway``) for the app's lifetime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from ewallet.bills.delivery import deliver_after_charge
from ewallet.bills.directory import list_billers, seed_directory
from ewallet.bills.errors import BillerDeclinedError
from ewallet.bills.payments import (
    BillServices,
    bill_payment_for_request,
    charge_bill,
    get_bill_payment,
    lookup_bill,
    prepare_payment,
)
from ewallet.bills.receipts import get_receipt, receipt_pdf
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
from ewallet.http.deps import ClockDep, EngineDep, LedgerDep, SettingsDep, app_clock, app_engine
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.payment_password.service import PaymentPasswordDep
from ewallet.integrations.biller.directory import Category
from ewallet.integrations.biller.wiring import biller_gateway_of
from ewallet.kit.amounts import parse_amount
from ewallet.risk.spending import SpendingPolicy


@asynccontextmanager
async def _bills_running(app: FastAPI) -> AsyncIterator[None]:
    await seed_directory(app_engine(app), clock=app_clock(app))
    yield


router = APIRouter(prefix="/v1", tags=["bills"], lifespan=_bills_running)


def bill_services(
    request: Request, engine: EngineDep, ledger: LedgerDep, clock: ClockDep, settings: SettingsDep
) -> BillServices:
    return BillServices(
        engine=engine,
        ledger=ledger,
        clock=clock,
        policy=SpendingPolicy.from_settings(settings),
        gateway=biller_gateway_of(request.app),
        retry_delay=timedelta(seconds=settings.bill_delivery_retry_seconds),
    )


ServicesDep = Annotated[BillServices, Depends(bill_services)]


@router.get("/billers", summary="The biller directory, optionally one category")
async def get_billers(
    _user: CurrentUser, engine: EngineDep, category: Category | None = None
) -> BillerList:
    return BillerList(
        items=[BillerOut.of(spec) for spec in await list_billers(engine, category=category)]
    )


@router.post("/bills/lookup", summary="The current bill of an account at a biller (masked holder)")
async def post_lookup(
    body: BillLookupIn, _user: CurrentUser, services: ServicesDep
) -> BillLookupOut:
    bill = await lookup_bill(
        services.engine, services.gateway, biller_id=body.biller_id, account_no=body.account_no
    )
    return BillLookupOut.of(bill)


@router.post(
    "/bill-payments",
    status_code=201,
    summary="Pay a bill or top up a phone (PIN, limits; 202 while the biller confirms)",
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": BillPaymentPendingOut}},
)
async def post_bill_payment(
    *,
    body: BillPaymentIn,
    user: CurrentUser,
    pin: PaymentPasswordDep,
    services: ServicesDep,
    request_key: RequestKeyDep,
    response: Response,
) -> BillPaymentPendingOut | BillPaymentEnvelope:
    amount = parse_amount(body.amount)
    # A rerun of a request that already charged answers that payment's state.
    payment = await bill_payment_for_request(
        services.engine, user_id=user.user_id, request_key=request_key
    )
    if payment is None:
        # Refusals that cost nothing come before the PIN: a mistyped account burns no attempt.
        bill = await prepare_payment(
            services, biller_id=body.biller_id, account_no=body.account_no, amount=amount
        )
        await pin.verify(user, body.payment_password)
        charged = await charge_bill(
            services, user_id=user.user_id, bill=bill, amount=amount, request_key=request_key
        )
        payment = await deliver_after_charge(
            services.engine, services.clock, services.gateway, charged
        )
    if payment.status == "failed":
        raise BillerDeclinedError(
            "the biller refused the payment; the money is back in the wallet",
            reason=payment.failure_reason,
            bill_payment_id=payment.id,
        )
    if payment.status == "pending":
        response.status_code = 202
        return BillPaymentPendingOut(bill_payment=BillPaymentOut.of(payment))
    return BillPaymentEnvelope(bill_payment=BillPaymentOut.of(payment))


@router.get("/bill-payments/{payment_id}", summary="One of the caller's bill payments")
async def get_one_payment(
    payment_id: str, user: CurrentUser, engine: EngineDep
) -> BillPaymentEnvelope:
    payment = await get_bill_payment(engine, payment_id=payment_id, user_id=user.user_id)
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
    engine: EngineDep,
    format: Annotated[Literal["json", "pdf"], Query()] = "json",  # noqa: A002 -- the API's name
) -> ReceiptOut | Response:
    receipt = await get_receipt(engine, payment_id=payment_id, user_id=user.user_id)
    if format == "pdf":
        return Response(
            receipt_pdf(receipt),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{receipt.receipt_no}.pdf"'},
        )
    return ReceiptOut.of(receipt)
