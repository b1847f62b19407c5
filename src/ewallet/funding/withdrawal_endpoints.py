"""``/v1/withdrawals``: preview the fee, withdraw to an own card, read one (signed-in users)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ewallet.funding.withdrawal_fees import FeePolicy
from ewallet.funding.withdrawal_schemas import (
    WithdrawalEnvelope,
    WithdrawalIn,
    WithdrawalOut,
    WithdrawalPendingOut,
    WithdrawalPreviewIn,
    WithdrawalPreviewOut,
)
from ewallet.funding.withdrawals import (
    WithdrawalServices,
    get_withdrawal,
    preview_withdrawal,
    resume_withdrawal,
    start_withdrawal,
)
from ewallet.http.deps import ClockDep, EngineDep, LedgerDep, SettingsDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser, app_security
from ewallet.identity.payment_password.service import PaymentPasswordDep
from ewallet.integrations.bank.wiring import gateway_from_app
from ewallet.kit.amounts import parse_amount
from ewallet.risk.spending import SpendingPolicy

router = APIRouter(prefix="/v1", tags=["withdrawals"])


def withdrawal_services(
    request: Request, engine: EngineDep, ledger: LedgerDep, clock: ClockDep, settings: SettingsDep
) -> WithdrawalServices:
    return WithdrawalServices(
        engine=engine,
        ledger=ledger,
        clock=clock,
        security=app_security(request.app),
        gateway=gateway_from_app(request.app),
        policy=FeePolicy.from_settings(settings),
        limits=SpendingPolicy.from_settings(settings),
    )


ServicesDep = Annotated[WithdrawalServices, Depends(withdrawal_services)]


@router.post(
    "/withdrawals/preview",
    summary="What a withdrawal would cost now (fee, total, free quota left); no side effects",
)
async def post_preview(
    body: WithdrawalPreviewIn, user: CurrentUser, engine: EngineDep, settings: SettingsDep
) -> WithdrawalPreviewOut:
    quote = await preview_withdrawal(
        engine,
        FeePolicy.from_settings(settings),
        user_id=user.user_id,
        card_id=body.card_id,
        amount=parse_amount(body.amount),
    )
    return WithdrawalPreviewOut.of(quote)


@router.post(
    "/withdrawals",
    status_code=201,
    summary="Withdraw to one of the caller's own cards (202 operation_pending if unknown)",
    dependencies=[Authenticated, Idempotent],
    responses={202: {"model": WithdrawalPendingOut}},
)
async def post_withdrawal(
    *,
    body: WithdrawalIn,
    user: CurrentUser,
    pin: PaymentPasswordDep,
    services: ServicesDep,
    request_key: RequestKeyDep,
    response: Response,
) -> WithdrawalPendingOut | WithdrawalEnvelope:
    amount = parse_amount(body.amount)
    # A rerun of a request that already made its withdrawal answers that one's state.
    withdrawal = await resume_withdrawal(
        services.engine, user_id=user.user_id, request_key=request_key
    )
    if withdrawal is None:
        await pin.verify(user, body.payment_password)
        withdrawal = await start_withdrawal(
            services,
            user_id=user.user_id,
            card_id=body.card_id,
            amount=amount,
            request_key=request_key,
        )
    if withdrawal.is_open:
        response.status_code = 202
        return WithdrawalPendingOut(withdrawal=WithdrawalOut.of(withdrawal))
    return WithdrawalEnvelope(withdrawal=WithdrawalOut.of(withdrawal))


@router.get("/withdrawals/{withdrawal_id}", summary="One of the caller's withdrawals")
async def get_one_withdrawal(
    withdrawal_id: str, user: CurrentUser, engine: EngineDep
) -> WithdrawalEnvelope:
    withdrawal = await get_withdrawal(engine, withdrawal_id=withdrawal_id, user_id=user.user_id)
    return WithdrawalEnvelope(withdrawal=WithdrawalOut.of(withdrawal))
