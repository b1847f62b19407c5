"""``/v1/transfers``: preview a payee, transfer to a phone number, read one transfer."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request

from ewallet.http.deps import ClockDep, EngineDep, LedgerDep, SettingsDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.payment_password.service import PaymentPasswordDep
from ewallet.kit.amounts import AmountOut, parse_amount
from ewallet.kit.phone import parse_phone
from ewallet.kit.ratelimit import RateLimiter, Rule
from ewallet.risk.spending import SpendingPolicy
from ewallet.transfers.schemas import (
    TransferEnvelope,
    TransferIn,
    TransferOut,
    TransferPreviewIn,
    TransferPreviewOut,
)
from ewallet.transfers.service import (
    TransferServices,
    create_transfer,
    get_transfer,
    preview_transfer,
    transfer_for_request,
)

router = APIRouter(prefix="/v1", tags=["transfers"])

PREVIEWS_PER_HOUR: Final = Rule("transfer-preview-user", 30, timedelta(hours=1))


def transfer_services(
    engine: EngineDep, ledger: LedgerDep, clock: ClockDep, settings: SettingsDep
) -> TransferServices:
    return TransferServices(engine, ledger, clock, SpendingPolicy.from_settings(settings))


ServicesDep = Annotated[TransferServices, Depends(transfer_services)]


@router.post(
    "/transfers/preview",
    summary="Who a phone number's wallet belongs to (masked), to confirm before paying",
)
async def post_preview(
    body: TransferPreviewIn, request: Request, user: CurrentUser, engine: EngineDep
) -> TransferPreviewOut:
    amount = parse_amount(body.amount) if body.amount is not None else None
    # A preview shows a masked name for a phone number: capped, so it cannot be used to
    # sweep numbers for who has a wallet.
    limiter: RateLimiter = request.app.state.rate_limiter
    refused = await limiter.hit(PREVIEWS_PER_HOUR, user.user_id)
    if refused is not None:
        raise refused.error("too many payee look-ups; wait before trying again")
    payee = await preview_transfer(
        engine, sender_id=user.user_id, to_phone=parse_phone(body.to_phone)
    )
    return TransferPreviewOut.of(payee, AmountOut.of(amount) if amount else None)


@router.post(
    "/transfers",
    status_code=201,
    summary="Transfer to another wallet by phone number (payment password, limits)",
    dependencies=[Authenticated, Idempotent],
)
async def post_transfer(
    body: TransferIn,
    user: CurrentUser,
    pin: PaymentPasswordDep,
    services: ServicesDep,
    request_key: RequestKeyDep,
) -> TransferEnvelope:
    amount = parse_amount(body.amount)
    to_phone = parse_phone(body.to_phone)
    # A rerun of a request whose transfer committed (its answer was lost in a crash)
    # answers that transfer: no second PIN check, no second transfer. Only the same
    # caller with the same key and body can find it.
    view = await transfer_for_request(
        services.engine, sender_id=user.user_id, request_key=request_key
    )
    if view is None:
        # Refusals that cost nothing come before the PIN: a wrong number burns no attempt.
        await preview_transfer(services.engine, sender_id=user.user_id, to_phone=to_phone)
        await pin.verify(user, body.payment_password)
        view = await create_transfer(
            services,
            sender_id=user.user_id,
            to_phone=to_phone,
            amount=amount,
            memo=body.memo,
            request_key=request_key,
        )
    return TransferEnvelope(transfer=TransferOut.of(view, user_id=user.user_id))


@router.get("/transfers/{transfer_id}", summary="One transfer the caller sent or received")
async def get_one_transfer(
    transfer_id: str, user: CurrentUser, engine: EngineDep
) -> TransferEnvelope:
    view = await get_transfer(engine, transfer_id=transfer_id, user_id=user.user_id)
    return TransferEnvelope(transfer=TransferOut.of(view, user_id=user.user_id))
