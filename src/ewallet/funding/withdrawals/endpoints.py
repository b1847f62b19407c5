"""``/v1/withdrawals``: preview the fee, withdraw to an own card, read one (signed-in users);
and ``/v1/card-transfers``, withdrawals to another person's card (:mod:`.card_transfers`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.funding.withdrawals.card_transfers import endpoints as card_transfers
from ewallet.funding.withdrawals.schemas import (
    WithdrawalEnvelope,
    WithdrawalIn,
    WithdrawalOut,
    WithdrawalPendingOut,
    WithdrawalPreviewIn,
    WithdrawalPreviewOut,
)
from ewallet.funding.withdrawals.service import get_withdrawal, preview_withdrawal, withdraw
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount

router = APIRouter(prefix="/v1", tags=["withdrawals"])


@router.post(
    "/withdrawals/preview",
    summary="What a withdrawal would cost now (fee, total, free quota left); no side effects",
)
async def post_preview(
    body: WithdrawalPreviewIn, user: CurrentUser, services: ServicesDep
) -> WithdrawalPreviewOut:
    quote = await preview_withdrawal(
        services, user.user_id, card_id=body.card_id, amount=parse_amount(body.amount)
    )
    return WithdrawalPreviewOut.of(quote)


@router.post(
    "/withdrawals",
    status_code=201,
    summary=(
        "Withdraw to one of the caller's own cards (202 operation_pending if the bank's "
        "answer is unknown, 202 under_review while risk control holds it)"
    ),
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": WithdrawalPendingOut}},
)
async def post_withdrawal(
    *,
    body: WithdrawalIn,
    user: CurrentUser,
    caller: CallerDep,
    services: ServicesDep,
    request_key: RequestKeyDep,
    request: Request,
    response: Response,
) -> WithdrawalPendingOut | WithdrawalEnvelope:
    withdrawal = await withdraw(
        services,
        user.user_id,
        Actor("user", user.user_id, request.client.host if request.client else None),
        card_id=body.card_id,
        amount=parse_amount(body.amount),
        payment_password=body.payment_password,
        caller=caller,
        request_key=request_key,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
    )
    if withdrawal.under_review:
        response.status_code = 202
        return WithdrawalPendingOut(code="under_review", withdrawal=WithdrawalOut.of(withdrawal))
    if withdrawal.is_open:
        response.status_code = 202
        return WithdrawalPendingOut(withdrawal=WithdrawalOut.of(withdrawal))
    return WithdrawalEnvelope(withdrawal=WithdrawalOut.of(withdrawal))


@router.get("/withdrawals/{withdrawal_id}", summary="One of the caller's withdrawals")
async def get_one_withdrawal(
    withdrawal_id: str, user: CurrentUser, services: ServicesDep
) -> WithdrawalEnvelope:
    withdrawal = await get_withdrawal(services, user.user_id, withdrawal_id=withdrawal_id)
    return WithdrawalEnvelope(withdrawal=WithdrawalOut.of(withdrawal))


router.include_router(card_transfers.router)
