"""``/v1/me/receive-code`` (one's own code) and ``/v1/receive-codes/{token}`` (paying one)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.money_requests.receive_codes import service
from ewallet.money_requests.receive_codes.qr import qr_png
from ewallet.money_requests.receive_codes.schemas import (
    ReceiveCodeOut,
    ReceivePaymentIn,
    ReceivePaymentOut,
    ReceivePaymentUnderReviewOut,
    ReceiveTargetOut,
    ReceiveTermsIn,
)

router = APIRouter(prefix="/v1", tags=["receive codes"])


@router.get(
    "/me/receive-code", summary="The caller's personal receive code (收款码), made on first read"
)
async def get_receive_code(user: CurrentUser, services: ServicesDep) -> ReceiveCodeOut:
    return ReceiveCodeOut.of(await service.my_receive_code(services, user.user_id))


@router.get(
    "/me/receive-code/qr.png",
    summary="The caller's receive code as a PNG image, to print or share",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def get_receive_code_png(user: CurrentUser, services: ServicesDep) -> Response:
    view = await service.my_receive_code(services, user.user_id)
    return Response(qr_png(view.url), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.put("/me/receive-code", summary="Fix the code's amount and note (null clears them)")
async def put_receive_code(
    body: ReceiveTermsIn, user: CurrentUser, services: ServicesDep
) -> ReceiveCodeOut:
    fixed = None if body.amount is None else parse_amount(body.amount)
    view = await service.set_receive_terms(
        services, user.user_id, fixed_amount=fixed, note=body.note
    )
    return ReceiveCodeOut.of(view)


@router.post("/me/receive-code/reset", summary="A new token: the old code stops working at once")
async def post_reset(user: CurrentUser, services: ServicesDep) -> ReceiveCodeOut:
    return ReceiveCodeOut.of(await service.reset_receive_code(services, user.user_id))


@router.get(
    "/receive-codes/{token}",
    summary="Whom a scanned receive code pays (masked) and its fixed amount, before paying",
)
async def get_receive_target(
    token: str, user: CurrentUser, services: ServicesDep
) -> ReceiveTargetOut:
    target = await service.describe_receive_code(services, payer_id=user.user_id, token=token)
    return ReceiveTargetOut.of(target)


@router.post(
    "/receive-codes/{token}/transfers",
    status_code=201,
    summary="Pay a receive code: a transfer to its owner (as POST /v1/transfers)",
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": ReceivePaymentUnderReviewOut}},
)
async def post_receive_payment(
    *,
    token: str,
    body: ReceivePaymentIn,
    request: Request,
    response: Response,
    user: CurrentUser,
    services: ServicesDep,
    request_key: RequestKeyDep,
    caller: CallerDep,
) -> ReceivePaymentUnderReviewOut | ReceivePaymentOut:
    amount = None if body.amount is None else parse_amount(body.amount)
    client_ip = request.client.host if request.client else None
    view = await service.pay_receive_code(
        services,
        Actor("user", user.user_id, client_ip),
        payer_id=user.user_id,
        token=token,
        amount=amount,
        memo=body.memo,
        payment_password=body.payment_password,
        caller=caller,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
        request_key=request_key,
    )
    if view.under_review:
        response.status_code = 202
        return ReceivePaymentUnderReviewOut.of(view, user_id=user.user_id)
    return ReceivePaymentOut.of(view, user_id=user.user_id)
