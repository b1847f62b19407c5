"""Console pages: the teller's counter -- cash deposits, their receipts, the supervisors'
approvals and the large-cash records.

- ``/console/counter/deposits/new`` (tellers and supervisors; never admins: cash is the
  cash roles' alone): the slip's phone number, amount, receipt number and branch. It posts
  to ``.../new/confirm``, which checks the slip as recording it would
  (``counter.service.preview_deposit``, audit-logged) and shows whose wallet it credits --
  masked name and phone, for the teller to compare with the person at the counter -- and
  whether a supervisor must approve it, *before* the cash is taken. "Cash received"
  (``POST .../new``) records it (``create_deposit``) and opens the deposit's page; "Change"
  (``.../new/edit``) goes back to the filled-in form. The paper receipt's number makes the
  deposit idempotent: the form posted twice (a double click, a reload, a second teller
  typing the same slip) finds the first deposit, which the page then shows, and nothing is
  credited twice.
- ``/console/counter/deposits/{id}``: the result -- credited, or waiting for a second
  person -- with "Print receipt" (``.../receipt.pdf``: the PDF of ``counter.receipts``,
  each print audit-logged); for a supervisor other than the teller, approve (credits the
  wallet) or reject with a reason. The service refuses the teller's own approval; the
  page says so.
- ``/console/counter/deposits``: every deposit, newest first, by state and "taken by me".
- ``/console/counter/approvals`` (supervisors): the deposits waiting for a decision.
- ``/console/counter/large-cash`` (supervisors, risk officers, admins): the large-cash
  records of a range of Beijing days, and the same as CSV.

Phone numbers show as the staff API shows them: in full to the cash roles, masked to
everyone else. Refusals are shown on the page they came from, in the reader's language,
next to the field they concern, with what was typed kept.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.counter.receipts import amount_in_capitals, receipt_pdf
from ewallet.counter.reports import large_cash_csv
from ewallet.counter.service import (
    approve_deposit,
    counter_desk,
    create_deposit,
    deposit_receipt,
    get_deposit,
    large_cash_report,
    list_deposits,
    preview_deposit,
    reject_deposit,
)
from ewallet.counter.views import DepositView
from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.models.counter import DepositStatus
from ewallet.staff.permissions import CASH_APPROVAL, CASH_HANDLING
from ewallet.staff.principal import StaffPrincipal
from ewallet.web.console.auth import Cashier, CashReader, CashReporter, CashSupervisor
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.forms import Form
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import PAGE_HEADERS, locale_of, refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

FORM: Final = "console/counter/new.html"
CONFIRM: Final = "console/counter/confirm.html"
DEPOSIT: Final = "console/counter/deposit.html"
LIST: Final = "console/counter/list.html"
APPROVALS: Final = "console/counter/approvals.html"
LARGE_CASH: Final = "console/counter/large_cash.html"
SLIP_FIELDS: Final = ("phone", "amount", "receipt_no", "branch")
PAGE_SIZE: Final = 25
STATUSES: Final = frozenset(status.value for status in DepositStatus)
OUTCOMES: Final = frozenset({"recorded", "again", "approved", "rejected"})


# ------------------------------------------------------------------------------ the slip


def _slip(form: Form) -> dict[str, str]:
    """What the teller typed, to show it again (the amount as typed, not reformatted)."""
    return {name: form.text(name) for name in SLIP_FIELDS}


# What a refused slip says, and next to which field: (code, field) -> (field, text).
SLIP_REFUSALS: Final = {
    ("not_found", ""): (
        "phone",
        N_("No customer wallet has this phone number. Check the number with the customer."),
    ),
    ("account_frozen", ""): (
        "phone",
        N_(
            "This customer's account is frozen and takes no deposits. Do not take the cash: "
            "send the customer to customer service."
        ),
    ),
    ("invalid_amount", ""): (
        "amount",
        N_("Enter the amount in yuan, more than zero, with at most two decimals (1200.50)."),
    ),
    ("currency_not_supported", ""): (
        "amount",
        N_("Enter the amount in yuan, more than zero, with at most two decimals (1200.50)."),
    ),
    ("receipt_already_used", ""): (
        "receipt_no",
        N_(
            "This receipt number is already used at this branch for another customer or "
            "amount. Check the number on the paper receipt."
        ),
    ),
    ("validation_error", "receipt_no"): (
        "receipt_no",
        N_(
            "Enter the receipt number as printed: letters, digits, -, _ or /, "
            "at most 64 characters."
        ),
    ),
    ("validation_error", "branch"): (
        "branch",
        N_("Enter the branch code: at most 32 letters, digits, - or _."),
    ),
}


def _slip_refusal(request: Request, error: DomainError) -> tuple[str, str]:
    """(the field a refusal of the slip concerns, the sentence that says it)."""
    field = str(error.extra.get("field", "")) if error.code == "validation_error" else ""
    known = SLIP_REFUSALS.get((error.code, field))
    if known is not None:
        return known[0], _t(known[1], locale_of(request))
    if error.code == "invalid_phone":
        return "phone", refusal(request, error)
    return "", refusal(request, error)


async def _slip_form(
    request: Request,
    services: ServicesDep,
    slip: dict[str, str],
    *,
    error: DomainError | None = None,
) -> Response:
    field, message = ("", "") if error is None else _slip_refusal(request, error)
    return await console_page(
        request,
        services,
        FORM,
        status_code=200 if error is None else error.status,
        desk=counter_desk(services),
        slip=slip,
        field_error=field,
        error=message or None,
    )


@router.get("/counter/deposits/new")
async def deposit_form(request: Request, staff: Cashier, services: ServicesDep) -> Response:
    blank = dict.fromkeys(SLIP_FIELDS, "")
    blank["branch"] = counter_desk(services).default_branch
    return await _slip_form(request, services, blank)


@router.post("/counter/deposits/new/edit")
async def edit_deposit(
    request: Request, form: ConsoleForm, staff: Cashier, services: ServicesDep
) -> Response:
    """ "Change" on the confirmation: the form again, filled in as it was."""
    return await _slip_form(request, services, _slip(form))


@router.get("/counter/deposits/new/confirm")
async def confirm_reloaded(staff: Cashier) -> Response:
    """The confirmation answers a post; opened by its address it starts over."""
    return see_other("/console/counter/deposits/new")


@router.post("/counter/deposits/new/confirm")
async def confirm_deposit(
    request: Request, form: ConsoleForm, staff: Cashier, services: ServicesDep
) -> Response:
    slip = _slip(form)
    try:
        preview = await preview_deposit(
            services,
            staff,
            phone=slip["phone"],
            amount=slip["amount"],
            receipt_no=slip["receipt_no"],
            branch=slip["branch"] or None,
        )
    except DomainError as error:
        return await _slip_form(request, services, slip, error=error)
    return await console_page(
        request,
        services,
        CONFIRM,
        preview=preview,
        in_words=amount_in_capitals(preview.amount),
        slip=slip,
    )


@router.post("/counter/deposits/new")
async def record_deposit(
    request: Request, form: ConsoleForm, staff: Cashier, services: ServicesDep
) -> Response:
    slip = _slip(form)
    try:
        recorded = await create_deposit(
            services,
            staff,
            phone=slip["phone"],
            amount=slip["amount"],
            receipt_no=slip["receipt_no"],
            branch=slip["branch"] or None,
        )
    except DomainError as error:
        return await _slip_form(request, services, slip, error=error)
    outcome = "recorded" if recorded.created else "again"
    return see_other(f"/console/counter/deposits/{recorded.deposit.id}?done={outcome}")


# ------------------------------------------------------------------------------ lists


def _filtered(path: str, **query: str) -> str:
    """``path`` with the non-empty query parameters (for the pager and the filters)."""
    kept = {name: value for name, value in query.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


@router.get("/counter/deposits")
async def deposits_list(
    *,
    request: Request,
    staff: CashReader,
    services: ServicesDep,
    status: Annotated[str, Query(max_length=32)] = "",
    mine: Annotated[str, Query(max_length=8)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    status = status if status in STATUSES else ""
    mine = "1" if mine else ""
    page = await list_deposits(
        services,
        staff,
        status=DepositStatus(status) if status else None,
        limit=PAGE_SIZE,
        cursor=cursor,
        teller_id=staff.staff_id if mine else None,
    )
    next_url = None
    if page.next_cursor is not None:
        next_url = _filtered(
            "/console/counter/deposits", status=status, mine=mine, cursor=page.next_cursor
        )
    return await console_page(
        request,
        services,
        LIST,
        deposits=page.items,
        status=status,
        mine=bool(mine),
        may_take_cash=CASH_HANDLING.allows(staff.role),
        next_url=next_url,
    )


@router.get("/counter/approvals")
async def approvals_queue(
    request: Request,
    staff: CashSupervisor,
    services: ServicesDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    page = await list_deposits(
        services,
        staff,
        status=DepositStatus.AWAITING_APPROVAL,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    next_url = None
    if page.next_cursor is not None:
        next_url = _filtered("/console/counter/approvals", cursor=page.next_cursor)
    return await console_page(request, services, APPROVALS, deposits=page.items, next_url=next_url)


# ------------------------------------------------------------------------------ one deposit


async def _deposit_page(
    request: Request,
    services: ServicesDep,
    staff: StaffPrincipal,
    deposit: DepositView,
    *,
    done: str = "",
    error: str | None = None,
    status_code: int = 200,
    reason: str = "",
) -> Response:
    awaiting = deposit.status == DepositStatus.AWAITING_APPROVAL
    return await console_page(
        request,
        services,
        DEPOSIT,
        status_code=status_code,
        deposit=deposit,
        in_words=amount_in_capitals(deposit.amount),
        done=done,
        error=error,
        reason=reason,
        may_decide=awaiting and CASH_APPROVAL.allows(staff.role),
        own=deposit.teller_id == staff.staff_id,
        may_take_cash=CASH_HANDLING.allows(staff.role),
    )


@router.get("/counter/deposits/{deposit_id}")
async def deposit_page(
    request: Request,
    deposit_id: str,
    staff: CashReader,
    services: ServicesDep,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    deposit = await get_deposit(services, staff, deposit_id=deposit_id)
    return await _deposit_page(
        request, services, staff, deposit, done=done if done in OUTCOMES else ""
    )


@router.get("/counter/deposits/{deposit_id}/receipt.pdf")
async def receipt_download(deposit_id: str, staff: CashReader, services: ServicesDep) -> Response:
    receipt = await deposit_receipt(services, staff, deposit_id=deposit_id)
    return Response(
        receipt_pdf(receipt),
        media_type="application/pdf",
        headers={
            **PAGE_HEADERS,
            "Content-Disposition": f'inline; filename="receipt-{receipt.deposit.id}.pdf"',
        },
    )


# What a refused approval or rejection says, by the refusal's code.
DECISION_REFUSALS: Final = {
    "forbidden": N_(
        "You took this cash yourself, so you cannot approve it: a second supervisor must."
    ),
    "deposit_not_awaiting_approval": N_(
        "This deposit was already decided, by you or another supervisor. Nothing changed."
    ),
    "account_frozen": N_(
        "The customer's account was frozen after the cash was taken, so nothing can be "
        "credited. The deposit keeps waiting: reject it and hand the cash back, or wait "
        "for the account to be unfrozen."
    ),
    "validation_error": N_("Give the reason for rejecting, in at most 200 characters."),
}


def _decision_refusal(request: Request, error: DomainError) -> str:
    known = DECISION_REFUSALS.get(error.code)
    return refusal(request, error) if known is None else _t(known, locale_of(request))


async def _refused_decision(
    request: Request,
    services: ServicesDep,
    staff: StaffPrincipal,
    deposit_id: str,
    error: DomainError,
    *,
    reason: str = "",
) -> Response:
    if error.code == "not_found":
        raise error  # the console's refusal page: no such deposit, nothing shown
    deposit = await get_deposit(services, staff, deposit_id=deposit_id)
    return await _deposit_page(
        request,
        services,
        staff,
        deposit,
        error=_decision_refusal(request, error),
        status_code=error.status,
        reason=reason,
    )


@router.post("/counter/deposits/{deposit_id}/approve")
async def approve(
    request: Request,
    deposit_id: str,
    form: ConsoleForm,
    staff: CashSupervisor,
    services: ServicesDep,
) -> Response:
    try:
        await approve_deposit(services, staff, deposit_id=deposit_id)
    except DomainError as error:
        return await _refused_decision(request, services, staff, deposit_id, error)
    return see_other(f"/console/counter/deposits/{deposit_id}?done=approved")


@router.post("/counter/deposits/{deposit_id}/reject")
async def reject(
    request: Request,
    deposit_id: str,
    form: ConsoleForm,
    staff: CashSupervisor,
    services: ServicesDep,
) -> Response:
    reason = form.text("reason")
    try:
        await reject_deposit(services, staff, deposit_id=deposit_id, reason=reason)
    except DomainError as error:
        return await _refused_decision(request, services, staff, deposit_id, error, reason=reason)
    return see_other(f"/console/counter/deposits/{deposit_id}?done=rejected")


# ------------------------------------------------------------------------------ large cash


def _day(text: str) -> date | None:
    """A ``YYYY-MM-DD`` day from a date field; None when empty (the report's default)."""
    return date.fromisoformat(text) if text else None


@router.get("/counter/large-cash")
async def large_cash_page(
    request: Request,
    staff: CashReporter,
    services: ServicesDep,
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    try:
        report = await large_cash_report(services, staff, first=_day(first), last=_day(last))
    except (DomainError, ValueError) as error:
        text = N_("Choose a range of at most 366 days whose first day is not after its last.")
        return await console_page(
            request,
            services,
            LARGE_CASH,
            status_code=getattr(error, "status", 422),
            report=None,
            first=first,
            last=last,
            error=_t(text, locale_of(request)),
        )
    return await console_page(
        request,
        services,
        LARGE_CASH,
        report=report,
        first=report.window.first.isoformat(),
        last=report.window.last.isoformat(),
        csv_url=_filtered(
            "/console/counter/large-cash.csv",
            **{"from": report.window.first.isoformat(), "to": report.window.last.isoformat()},
        ),
    )


@router.get("/counter/large-cash.csv")
async def large_cash_download(
    staff: CashReporter,
    services: ServicesDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    report = await large_cash_report(services, staff, first=first, last=last)
    name = f"large-cash-{report.window.first.isoformat()}-{report.window.last.isoformat()}.csv"
    return Response(
        large_cash_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
