"""Pages of the wallet: money requests and split bills (AA).

``/requests`` lists the requests asked of the customer (``?role=outgoing``: the ones they
made), newest first, each with its status as of now (an open one past its time reads
expired). ``/requests/new`` asks a phone number for an amount; ``/requests/split`` splits a
total among 2-20 numbers (one per line), equally or -- ``phone, amount`` on a line -- by
the shares typed; ``/requests/splits/{id}`` shows each payer's status. ``/requests/{id}``
shows one request to either side: the payer pays it with the PIN (a transfer to the
requester, which marks it paid in the same unit) or declines it, the requester cancels it
while open. Every handler makes one call to :mod:`ewallet.money_requests.service`, the
one the ``/v1/money-requests`` and ``/v1/split-bills`` endpoints call; refusals are shown
on the page they came from, with what was typed kept (never the PIN). A request paid here
shows the transfer's receipt, ``/transfers/{id}``.

A payment risk control challenges is not offered the step-up page here: the page says to
pay it from the app (the API takes ``challenge_id``); docs/money-requests.md.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.kit.money import Money
from ewallet.money_requests import service
from ewallet.money_requests.service import NOTE_MAX_LENGTH
from ewallet.money_requests.shares import MAX_PAYERS
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm, form_request_key
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, see_other
from ewallet.web.kit.refusals import money_refusal
from ewallet.web.kit.routing import WebRoute
from ewallet.web.wallet.register import page_caller

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LIST = "wallet/money_requests/list.html"
ASK = "wallet/money_requests/ask.html"
SPLIT = "wallet/money_requests/split.html"
SPLIT_VIEW = "wallet/money_requests/split_view.html"
ONE = "wallet/money_requests/request.html"
PURPOSE = "money-request"


# Messages for the refusals these pages explain in their own words (else money_refusal's).
_BY_CODE: Final = {
    "not_found": N_("No wallet is registered with this phone number. Check the number."),
    "money_request_not_open": N_(
        "This request is no longer open: it was paid, declined, withdrawn or has expired."
    ),
    "transfer_to_self": N_("You cannot ask yourself for money."),
    "step_up_required": N_("A security check is needed for this payment: pay it from the app."),
}
_BY_FIELD: Final = {
    "note": N_("The note can be at most %(num)s characters."),
    "payers": N_("Name 2 to %(num)s different people; custom shares must add up to the total."),
    "amount": N_("The total is too small to split."),
}


def _refusal(request: Request, error: DomainError) -> str:
    locale = locale_of(request)
    if error.code in _BY_CODE:
        return _t(_BY_CODE[error.code], locale)
    field = error.extra.get("field")
    if error.code == "validation_error" and field in _BY_FIELD:
        number = NOTE_MAX_LENGTH if field == "note" else MAX_PAYERS
        return _t(_BY_FIELD[field], locale) % {"num": number}
    return money_refusal(request, error)


@router.get("/requests")
async def requests_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    incoming = request.query_params.get("role") != "outgoing"
    found = await service.list_money_requests(services, user.user_id, incoming=incoming)
    return await page(request, services, LIST, items=found.items, incoming=incoming)


async def _ask_page(
    request: Request,
    services: ServicesDep,
    typed: dict[str, str],
    *,
    error: DomainError | None = None,
) -> Response:
    return await page(
        request,
        services,
        ASK,
        status_code=200 if error is None else error.status,
        error=None if error is None else _refusal(request, error),
        note_max=NOTE_MAX_LENGTH,
        **typed,
    )


@router.get("/requests/new")
async def ask_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await _ask_page(request, services, {"phone": "", "amount": "", "note": ""})


@router.post("/requests/new")
async def ask(request: Request, form: PostedForm, user: WebUser, services: ServicesDep) -> Response:
    typed = {"phone": form.text("phone"), "amount": form.text("amount"), "note": form.text("note")}
    try:
        made = await service.create_money_request(
            services,
            requester_id=user.user_id,
            to_phone=typed["phone"],
            amount=parse_amount(typed["amount"]),
            note=typed["note"] or None,
        )
    except DomainError as error:
        return await _ask_page(request, services, typed, error=error)
    return see_other(f"/requests/{made.id}")


def _payers(text: str) -> list[tuple[str, Money | None]]:
    """One payer a line: ``phone``, or ``phone, amount`` for a custom share (an ASCII or a
    Chinese comma; a phone number may contain spaces)."""
    payers: list[tuple[str, Money | None]] = []
    for line in text.replace("，", ",").splitlines():
        phone, _, share = line.partition(",")
        if not phone.strip():
            continue
        payers.append((phone.strip(), parse_amount(share.strip()) if share.strip() else None))
    if not payers:
        raise ValidationFailedError("name the payers", field="payers")
    return payers


async def _split_page(
    request: Request,
    services: ServicesDep,
    typed: dict[str, str],
    *,
    error: DomainError | None = None,
) -> Response:
    return await page(
        request,
        services,
        SPLIT,
        status_code=200 if error is None else error.status,
        error=None if error is None else _refusal(request, error),
        note_max=NOTE_MAX_LENGTH,
        max_payers=MAX_PAYERS,
        **typed,
    )


@router.get("/requests/split")
async def split_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await _split_page(request, services, {"amount": "", "note": "", "payers": ""})


@router.post("/requests/split")
async def split(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    typed = {
        "amount": form.text("amount"),
        "note": form.text("note"),
        "payers": form.text("payers"),
    }
    try:
        bill = await service.split_bill(
            services,
            requester_id=user.user_id,
            total=parse_amount(typed["amount"]),
            note=typed["note"] or None,
            payers=_payers(typed["payers"]),
        )
    except DomainError as error:
        return await _split_page(request, services, typed, error=error)
    return see_other(f"/requests/splits/{bill.id}")


@router.get("/requests/splits/{split_id}")
async def split_view(
    split_id: str, request: Request, user: WebUser, services: ServicesDep
) -> Response:
    bill = await service.get_split_bill(services, user.user_id, split_id=split_id)
    return await page(request, services, SPLIT_VIEW, bill=bill)


async def _one(
    request: Request,
    services: ServicesDep,
    user_id: str,
    request_id: str,
    *,
    error: DomainError | None = None,
) -> Response:
    view = await service.get_money_request(services, user_id, request_id=request_id)
    return await page(
        request,
        services,
        ONE,
        status_code=200 if error is None else error.status,
        item=view,
        incoming=view.role_for(user_id) == "incoming",
        error=None if error is None else _refusal(request, error),
        locked=error is not None and error.code == "payment_password_locked",
    )


@router.get("/requests/{request_id}")
async def request_page(
    request_id: str, request: Request, user: WebUser, services: ServicesDep
) -> Response:
    return await _one(request, services, user.user_id, request_id)


@router.post("/requests/{request_id}/pay")
async def pay(
    *,
    request_id: str,
    request: Request,
    form: PostedForm,
    user: WebUser,
    services: ServicesDep,
    caller: CallerDep,
) -> Response:
    try:
        accepted = await service.accept_money_request(
            services,
            actor_of(request, user),
            payer_id=user.user_id,
            request_id=request_id,
            payment_password=form["payment_password"],
            caller=page_caller(request, caller),
            device_id=user.device_id,
            request_key=form_request_key(user.user_id, form, PURPOSE),
        )
    except DomainError as error:
        return await _one(request, services, user.user_id, request_id, error=error)
    return see_other(f"/transfers/{accepted.transfer.id}")


@router.post("/requests/{request_id}/decline")
async def decline(
    request_id: str, request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    try:
        await service.decline_money_request(services, payer_id=user.user_id, request_id=request_id)
    except DomainError as error:
        return await _one(request, services, user.user_id, request_id, error=error)
    return see_other(f"/requests/{request_id}")


@router.post("/requests/{request_id}/cancel")
async def cancel(
    request_id: str, request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    try:
        await service.cancel_money_request(
            services, requester_id=user.user_id, request_id=request_id
        )
    except DomainError as error:
        return await _one(request, services, user.user_id, request_id, error=error)
    return see_other(f"/requests/{request_id}")
