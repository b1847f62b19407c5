"""``/v1/staff/counter-deposits`` and ``/v1/staff/large-cash-records`` (staff only).

Cash is handled by tellers and teller supervisors alone: admin passes every other staff
check (:func:`ewallet.staff.deps.require_permission`) but is deliberately no cash role here, so
creating, approving and rejecting deposits use :func:`cash_role` instead. Reading is open
to the cash roles, risk officers and admins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from ewallet.counter.receipts import receipt_pdf
from ewallet.counter.schemas import (
    DepositEnvelope,
    DepositIn,
    DepositOut,
    DepositPage,
    LargeCashOut,
    LargeCashReport,
    RejectIn,
)
from ewallet.counter.service import (
    approve_deposit,
    create_deposit,
    deposit_receipt,
    get_deposit,
    large_cash_report,
    list_deposits,
    reject_deposit,
)
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent
from ewallet.kit.errors import ForbiddenError
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.models.counter import DepositStatus
from ewallet.staff.deps import CurrentStaff, require_permission
from ewallet.staff.errors import PasswordChangeRequiredError
from ewallet.staff.permissions import (
    CASH_APPROVAL,
    CASH_HANDLING,
    CASH_READING,
    CASH_REPORTING,
    Permission,
)
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff", tags=["counter deposits"])


def cash_role(allowed: Permission) -> Callable[..., Awaitable[StaffPrincipal]]:
    """Like ``require_permission``, with the refusal naming who handles cash."""

    async def check(staff: CurrentStaff) -> StaffPrincipal:
        if staff.must_change_password:
            raise PasswordChangeRequiredError("change the one-time password first")
        if not allowed.allows(staff.role):
            raise ForbiddenError("only tellers and teller supervisors handle counter cash")
        return staff

    check.__name__ = f"cash_role_{allowed.name}"
    return check


# One dependency object each: listed before ``Idempotent`` (so a refused caller claims no
# key) and as the endpoint's parameter, it runs once per request.
require_cashier = cash_role(CASH_HANDLING)
require_supervisor = cash_role(CASH_APPROVAL)
Cashier = Annotated[StaffPrincipal, Depends(require_cashier)]
Supervisor = Annotated[StaffPrincipal, Depends(require_supervisor)]
Reader = Annotated[StaffPrincipal, Depends(require_permission(CASH_READING))]
Reporter = Annotated[StaffPrincipal, Depends(require_permission(CASH_REPORTING))]


@router.post(
    "/counter-deposits",
    status_code=201,
    summary="Take cash at the counter for a customer's wallet (tellers, supervisors)",
    description=(
        "`201` with the new deposit: `completed` (credited now) below the large-cash "
        "threshold, `awaiting_approval` at or above it. The same receipt number of the "
        "branch again with the same phone and amount answers `200` with the existing "
        "deposit; with other content `409 receipt_already_used`."
    ),
    dependencies=[Depends(require_cashier), Idempotent],
)
async def post_deposit(
    body: DepositIn, staff: Cashier, services: ServicesDep, response: Response
) -> DepositEnvelope:
    recorded = await create_deposit(
        services,
        staff,
        phone=body.phone,
        amount=body.amount,
        receipt_no=body.receipt_no,
        currency=body.currency,
        branch=body.branch,
    )
    if not recorded.created:
        response.status_code = 200
    return DepositEnvelope(deposit=DepositOut.of(recorded.deposit, role=staff.role))


@router.post(
    "/counter-deposits/{deposit_id}/approve",
    summary="Approve and credit a large deposit (a supervisor other than its teller)",
    dependencies=[Depends(require_supervisor), Idempotent],
)
async def post_approve(
    deposit_id: str, staff: Supervisor, services: ServicesDep
) -> DepositEnvelope:
    deposit = await approve_deposit(services, staff, deposit_id=deposit_id)
    return DepositEnvelope(deposit=DepositOut.of(deposit, role=staff.role))


@router.post(
    "/counter-deposits/{deposit_id}/reject",
    summary="Reject a large deposit: nothing is credited (supervisors)",
    dependencies=[Depends(require_supervisor), Idempotent],
)
async def post_reject(
    deposit_id: str, body: RejectIn, staff: Supervisor, services: ServicesDep
) -> DepositEnvelope:
    deposit = await reject_deposit(services, staff, deposit_id=deposit_id, reason=body.reason)
    return DepositEnvelope(deposit=DepositOut.of(deposit, role=staff.role))


@router.get("/counter-deposits", summary="Counter deposits, newest first")
async def get_deposits(
    *,
    staff: Reader,
    services: ServicesDep,
    status: Literal["awaiting_approval", "completed", "rejected"] | None = None,
    teller_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DepositPage:
    wanted = None if status is None else DepositStatus(status)
    page = await list_deposits(
        services, staff, status=wanted, limit=limit, cursor=cursor, teller_id=teller_id
    )
    return DepositPage(
        items=[DepositOut.of(item, role=staff.role) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/counter-deposits/{deposit_id}", summary="One counter deposit")
async def get_one_deposit(deposit_id: str, staff: Reader, services: ServicesDep) -> DepositEnvelope:
    deposit = await get_deposit(services, staff, deposit_id=deposit_id)
    return DepositEnvelope(deposit=DepositOut.of(deposit, role=staff.role))


@router.get(
    "/counter-deposits/{deposit_id}/receipt.pdf",
    summary="A deposit's printed receipt, Chinese and English (audit-logged)",
    description=(
        "The receipt of the deposit in any state, as an A5 PDF: branch, receipt number, the "
        "customer masked, the amount in figures and in Chinese capitals, teller and deciding "
        "supervisor, times in Asia/Shanghai and the state (a waiting or rejected deposit "
        "says it is not credited). Each download writes `counter_deposit.receipt_printed`."
    ),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The receipt"}},
)
async def get_receipt_pdf(deposit_id: str, staff: Reader, services: ServicesDep) -> Response:
    receipt = await deposit_receipt(services, staff, deposit_id=deposit_id)
    return Response(
        receipt_pdf(receipt),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="receipt-{receipt.deposit.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/large-cash-records",
    summary="Large-cash records of Beijing days from..to, inclusive (default: last 31 days)",
)
async def get_large_cash(
    *,
    staff: Reporter,
    services: ServicesDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> LargeCashReport:
    report = await large_cash_report(services, staff, first=from_, last=to)
    return LargeCashReport(
        from_=report.window.first,
        to=report.window.last,
        items=[LargeCashOut.of(record) for record in report.records],
    )
