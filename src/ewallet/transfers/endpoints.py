"""``/v1/transfers``: preview a payee, transfer to a phone number, read one transfer."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import AmountOut, parse_amount
from ewallet.kit.phone import parse_phone
from ewallet.transfers import service
from ewallet.transfers.schemas import (
    TransferEnvelope,
    TransferIn,
    TransferOut,
    TransferPreviewIn,
    TransferPreviewOut,
    TransferUnderReviewOut,
)

router = APIRouter(prefix="/v1", tags=["transfers"])


@router.post(
    "/transfers/preview",
    summary="Who a phone number's wallet belongs to (masked), to confirm before paying",
)
async def post_preview(
    body: TransferPreviewIn, user: CurrentUser, services: ServicesDep
) -> TransferPreviewOut:
    amount = parse_amount(body.amount) if body.amount is not None else None
    payee = await service.preview_transfer(services, user.user_id, to_phone=body.to_phone)
    return TransferPreviewOut.of(payee, AmountOut.of(amount) if amount else None)


@router.post(
    "/transfers",
    status_code=201,
    summary=(
        "Transfer to another wallet by phone number (payment password, limits; "
        "202 under_review if risk control holds it, docs/risk-review.md; 401 "
        "step_up_required if it asks for a step-up, then again with challenge_id)"
    ),
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": TransferUnderReviewOut}},
)
async def post_transfer(
    *,
    body: TransferIn,
    request: Request,
    response: Response,
    user: CurrentUser,
    services: ServicesDep,
    request_key: RequestKeyDep,
    caller: CallerDep,
) -> TransferUnderReviewOut | TransferEnvelope:
    amount = parse_amount(body.amount)
    to_phone = parse_phone(body.to_phone)
    client_ip = request.client.host if request.client else None
    view = await service.create_transfer(
        services,
        Actor("user", user.user_id, client_ip),
        sender_id=user.user_id,
        to_phone=to_phone,
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
        return TransferUnderReviewOut(transfer=TransferOut.of(view, user_id=user.user_id))
    return TransferEnvelope(transfer=TransferOut.of(view, user_id=user.user_id))


@router.get("/transfers/{transfer_id}", summary="One transfer the caller sent or received")
async def get_one_transfer(
    transfer_id: str, user: CurrentUser, services: ServicesDep
) -> TransferEnvelope:
    view = await service.get_transfer(services, user.user_id, transfer_id=transfer_id)
    return TransferEnvelope(transfer=TransferOut.of(view, user_id=user.user_id))
