"""``/v1/money-requests`` and ``/v1/split-bills``: ask, list, read, pay, decline, cancel, split."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.money_requests import service
from ewallet.money_requests.schemas import (
    AcceptedOut,
    AcceptIn,
    MoneyRequestEnvelope,
    MoneyRequestIn,
    MoneyRequestList,
    MoneyRequestOut,
    SplitBillEnvelope,
    SplitBillIn,
    SplitBillOut,
)
from ewallet.money_requests.views import MoneyRequestView

router = APIRouter(prefix="/v1", tags=["money requests"])


def _envelope(view: MoneyRequestView, user_id: str) -> MoneyRequestEnvelope:
    return MoneyRequestEnvelope(money_request=MoneyRequestOut.of(view, user_id=user_id))


@router.post(
    "/money-requests",
    status_code=201,
    summary="Ask the customer of a phone number for an amount (the look-up as a transfer's)",
    dependencies=[Authenticated, Idempotent],
)
async def post_money_request(
    body: MoneyRequestIn, user: CurrentUser, services: ServicesDep
) -> MoneyRequestEnvelope:
    amount = parse_amount(body.amount)
    view = await service.create_money_request(
        services, requester_id=user.user_id, to_phone=body.phone, amount=amount, note=body.note
    )
    return _envelope(view, user.user_id)


@router.get("/money-requests", summary="Requests asked of the caller (incoming) or made by them")
async def get_money_requests(
    user: CurrentUser,
    services: ServicesDep,
    role: Literal["incoming", "outgoing"] = "incoming",
    limit: int = Query(default=DEFAULT_LIMIT),
    cursor: str | None = Query(default=None, max_length=512),
) -> MoneyRequestList:
    page = await service.list_money_requests(
        services, user.user_id, incoming=role == "incoming", limit=limit, cursor=cursor
    )
    return MoneyRequestList.of(page, user_id=user.user_id)


@router.get(
    "/money-requests/{request_id}", summary="One request the caller made or is asked to pay"
)
async def get_money_request(
    request_id: str, user: CurrentUser, services: ServicesDep
) -> MoneyRequestEnvelope:
    view = await service.get_money_request(services, user.user_id, request_id=request_id)
    return _envelope(view, user.user_id)


@router.post(
    "/money-requests/{request_id}/accept",
    status_code=201,
    summary=(
        "Pay a request asked of the caller: a transfer to the requester (payment password, "
        "limits, risk as any transfer); the request is paid in the same unit, exactly once"
    ),
    dependencies=[Authenticated, Idempotent],
)
async def post_accept(
    *,
    request_id: str,
    body: AcceptIn,
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
    request_key: RequestKeyDep,
    caller: CallerDep,
) -> AcceptedOut:
    client_ip = request.client.host if request.client else None
    accepted = await service.accept_money_request(
        services,
        Actor("user", user.user_id, client_ip),
        payer_id=user.user_id,
        request_id=request_id,
        payment_password=body.payment_password,
        caller=caller,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
        request_key=request_key,
    )
    return AcceptedOut.of(accepted.request, accepted.transfer, user_id=user.user_id)


@router.post(
    "/money-requests/{request_id}/decline", summary="Decline a request asked of the caller"
)
async def post_decline(
    request_id: str, user: CurrentUser, services: ServicesDep
) -> MoneyRequestEnvelope:
    view = await service.decline_money_request(
        services, payer_id=user.user_id, request_id=request_id
    )
    return _envelope(view, user.user_id)


@router.post("/money-requests/{request_id}/cancel", summary="Withdraw an open request one made")
async def post_cancel(
    request_id: str, user: CurrentUser, services: ServicesDep
) -> MoneyRequestEnvelope:
    view = await service.cancel_money_request(
        services, requester_id=user.user_id, request_id=request_id
    )
    return _envelope(view, user.user_id)


@router.post(
    "/split-bills",
    status_code=201,
    summary="Split an amount among 2-20 payers (equal or custom shares): one request each",
    dependencies=[Authenticated, Idempotent],
)
async def post_split_bill(
    body: SplitBillIn, user: CurrentUser, services: ServicesDep
) -> SplitBillEnvelope:
    total = parse_amount(body.amount)
    payers = [
        (payer.phone, None if payer.amount is None else parse_amount(payer.amount))
        for payer in body.payers
    ]
    view = await service.split_bill(
        services, requester_id=user.user_id, total=total, note=body.note, payers=payers
    )
    return SplitBillEnvelope(split_bill=SplitBillOut.of(view, user_id=user.user_id))


@router.get("/split-bills/{split_id}", summary="A split bill the caller made, with each share")
async def get_split_bill(
    split_id: str, user: CurrentUser, services: ServicesDep
) -> SplitBillEnvelope:
    view = await service.get_split_bill(services, user.user_id, split_id=split_id)
    return SplitBillEnvelope(split_bill=SplitBillOut.of(view, user_id=user.user_id))
