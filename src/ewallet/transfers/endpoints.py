"""``/v1/transfers``: preview a payee, transfer to a phone number (real-time or delayed),
read one transfer, cancel a delayed one; ``/v1/me/transfer-settings``: the default arrival."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import LocaleDep, ServicesDep
from ewallet.http.idempotency import Idempotent, IdempotentInUnit, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import AmountOut, parse_amount
from ewallet.kit.phone import parse_phone
from ewallet.models.transfers import Arrival
from ewallet.transfers import service
from ewallet.transfers.arrival import service as arrival_service
from ewallet.transfers.schemas import (
    TransferEnvelope,
    TransferIn,
    TransferOut,
    TransferPreviewIn,
    TransferPreviewOut,
    TransferSettingsIn,
    TransferSettingsOut,
    TransferUnderReviewOut,
)
from ewallet.transfers.views import TransferView

router = APIRouter(prefix="/v1", tags=["transfers"])


@router.post(
    "/transfers/preview",
    summary="Who a phone number's wallet belongs to (masked), to confirm before paying",
)
async def post_preview(
    body: TransferPreviewIn, user: CurrentUser, services: ServicesDep, locale: LocaleDep
) -> TransferPreviewOut:
    amount = parse_amount(body.amount) if body.amount is not None else None
    payee = await service.preview_transfer(services, user.user_id, to_phone=body.to_phone)
    return TransferPreviewOut.of(payee, AmountOut.of(amount) if amount else None, locale)


@router.post(
    "/transfers",
    status_code=201,
    summary=(
        "Transfer to another wallet by phone number (payment password, limits; arrival "
        "realtime, 2h or next_day -- a delayed one is scheduled and cancellable; "
        "acknowledge_new_payee for a first transfer to someone; 202 under_review if risk "
        "control holds it, docs/risk-review.md; 401 step_up_required if it asks for a "
        "step-up, then again with challenge_id)"
    ),
    dependencies=[Authenticated, IdempotentInUnit],
    response_model=TransferEnvelope,
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
) -> TransferUnderReviewOut | TransferEnvelope | Response:
    amount = parse_amount(body.amount)
    to_phone = parse_phone(body.to_phone)
    client_ip = request.client.host if request.client else None
    # The transfer's unit records its answer with the key; it is sent as recorded.
    request_key.answer_with(partial(_transfer_answer, user.user_id))
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
        arrival=None if body.arrival is None else Arrival(body.arrival),
        new_payee_acknowledged=body.acknowledge_new_payee,
    )
    if (recorded := request_key.recorded()) is not None:
        status, content = recorded
        return Response(content, status_code=status, media_type="application/json")
    if view.under_review:
        response.status_code = 202
        return TransferUnderReviewOut(transfer=TransferOut.of(view, user_id=user.user_id))
    return TransferEnvelope(transfer=TransferOut.of(view, user_id=user.user_id))


def _transfer_answer(user_id: str, view: TransferView) -> tuple[int, bytes]:
    out = TransferOut.of(view, user_id=user_id)
    if view.under_review:
        return 202, TransferUnderReviewOut(transfer=out).model_dump_json().encode()
    return 201, TransferEnvelope(transfer=out).model_dump_json().encode()


@router.get("/transfers/{transfer_id}", summary="One transfer the caller sent or received")
async def get_one_transfer(
    transfer_id: str, user: CurrentUser, services: ServicesDep
) -> TransferEnvelope:
    view = await service.get_transfer(services, user.user_id, transfer_id=transfer_id)
    return TransferEnvelope(transfer=TransferOut.of(view, user_id=user.user_id))


@router.post(
    "/transfers/{transfer_id}/cancel",
    summary="Cancel a delayed transfer before it arrives (the money back with the payer)",
    dependencies=[Authenticated, Idempotent],
)
async def post_cancel(
    transfer_id: str, user: CurrentUser, services: ServicesDep
) -> TransferEnvelope:
    view = await arrival_service.cancel_transfer(
        services, user_id=user.user_id, transfer_id=transfer_id
    )
    return TransferEnvelope(transfer=TransferOut.of(view, user_id=user.user_id))


@router.get("/me/transfer-settings", summary="The caller's transfer settings (default arrival)")
async def get_transfer_settings(user: CurrentUser, services: ServicesDep) -> TransferSettingsOut:
    view = await arrival_service.transfer_settings(services, user.user_id)
    return TransferSettingsOut.of(view)


@router.put(
    "/me/transfer-settings",
    summary="Set the arrival a transfer takes when its request names none",
    dependencies=[Authenticated],
)
async def put_transfer_settings(
    body: TransferSettingsIn, user: CurrentUser, services: ServicesDep
) -> TransferSettingsOut:
    view = await arrival_service.change_transfer_settings(
        services, user.user_id, default_arrival=Arrival(body.default_arrival)
    )
    return TransferSettingsOut.of(view)
