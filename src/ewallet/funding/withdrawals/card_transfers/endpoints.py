"""``/v1/card-transfers``: send money to another person's bank card (the bank checks the
name), preview its fee, read one, cancel a delayed one (docs/card-transfers.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.funding.withdrawals.card_transfers import service
from ewallet.funding.withdrawals.card_transfers.schemas import (
    CardTransferEnvelope,
    CardTransferIn,
    CardTransferOut,
    CardTransferPendingOut,
    CardTransferPreviewIn,
    CardTransferPreviewOut,
)
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.models.transfers import Arrival

# Mounted under the withdrawals' ``/v1`` router (a withdrawal to someone else's card).
router = APIRouter(tags=["withdrawals"])


@router.post(
    "/card-transfers/preview",
    summary="The card's bank and what a transfer to it would cost now; no side effects",
)
async def post_preview(
    body: CardTransferPreviewIn, user: CurrentUser, services: ServicesDep
) -> CardTransferPreviewOut:
    preview = await service.preview_card_transfer(
        services, user.user_id, card_number=body.card_number, amount=parse_amount(body.amount)
    )
    return CardTransferPreviewOut.of(preview)


@router.post(
    "/card-transfers",
    status_code=201,
    summary=(
        "Send money to another person's bank card (the bank checks the holder's name; "
        "withdrawal fees; arrival realtime, 2h or next_day; 202 operation_pending if the "
        "bank's answer is unknown)"
    ),
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": CardTransferPendingOut}},
)
async def post_card_transfer(
    *,
    body: CardTransferIn,
    user: CurrentUser,
    caller: CallerDep,
    services: ServicesDep,
    request_key: RequestKeyDep,
    request: Request,
    response: Response,
) -> CardTransferPendingOut | CardTransferEnvelope:
    transfer = await service.transfer_to_card(
        services,
        user.user_id,
        Actor("user", user.user_id, request.client.host if request.client else None),
        card_number=body.card_number,
        payee_name=body.payee_name,
        amount=parse_amount(body.amount),
        payment_password=body.payment_password,
        caller=caller,
        arrival=None if body.arrival is None else Arrival(body.arrival),
        request_key=request_key,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
    )
    if transfer.is_open:
        response.status_code = 202
        return CardTransferPendingOut(card_transfer=CardTransferOut.of(transfer))
    return CardTransferEnvelope(card_transfer=CardTransferOut.of(transfer))


@router.get("/card-transfers/{transfer_id}", summary="One of the caller's card transfers")
async def get_one(
    transfer_id: str, user: CurrentUser, services: ServicesDep
) -> CardTransferEnvelope:
    transfer = await service.get_card_transfer(services, user.user_id, transfer_id=transfer_id)
    return CardTransferEnvelope(card_transfer=CardTransferOut.of(transfer))


@router.post(
    "/card-transfers/{transfer_id}/cancel",
    summary="Cancel a delayed card transfer before the bank is asked (the money back)",
    dependencies=[Authenticated, Idempotent],
)
async def post_cancel(
    transfer_id: str, user: CurrentUser, services: ServicesDep
) -> CardTransferEnvelope:
    transfer = await service.cancel_card_transfer(
        services, user_id=user.user_id, transfer_id=transfer_id
    )
    return CardTransferEnvelope(card_transfer=CardTransferOut.of(transfer))
