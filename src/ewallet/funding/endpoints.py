"""``POST /v1/topups`` and ``GET /v1/topups/{id}`` (signed-in users)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ewallet.funding.card_topups import CardTopupServices, resume_card_topup, start_card_topup
from ewallet.funding.psp_topups import start_psp_topup
from ewallet.funding.schemas import (
    CardTopupPendingOut,
    TopupEnvelope,
    TopupIn,
    TopupOut,
    TopupStartedOut,
)
from ewallet.funding.service import get_topup
from ewallet.http.deps import ClockDep, EngineDep, LedgerDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser, SecurityDep
from ewallet.identity.payment_password.service import PaymentPasswordDep
from ewallet.integrations.bank.wiring import gateway_from_app
from ewallet.integrations.psp import PspChannels
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import ValidationFailedError

router = APIRouter(prefix="/v1", tags=["funding"])


def get_psp(request: Request) -> PspChannels:
    psp: PspChannels = request.app.state.psp
    return psp


PspDep = Annotated[PspChannels, Depends(get_psp)]


@router.post(
    "/topups",
    status_code=201,
    summary="Top up the wallet from a bound card, or through Alipay or WeChat Pay",
    description=(
        "`method: card` debits the card once (the payment password is required): `201` with "
        "the top-up `succeeded`, `402 bank_declined` (the top-up is kept, `failed`), or -- "
        "when the bank's answer is unclear -- `202` with the `pending` top-up and "
        '`"code": "operation_pending"`: it settles later and the user is notified. The same '
        "Idempotency-Key replays the answer (or, had the first answer been lost after the bank "
        "was asked, answers the same top-up's state); a new key is a new top-up."
    ),
    dependencies=[Authenticated, Idempotent],
)
async def post_topup(
    *,
    body: TopupIn,
    request: Request,
    response: Response,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
    psp: PspDep,
    ledger: LedgerDep,
    security: SecurityDep,
    pin: PaymentPasswordDep,
    request_key: RequestKeyDep,
) -> TopupStartedOut | TopupEnvelope | CardTopupPendingOut:
    amount = parse_amount(body.amount)
    if body.method == "card":
        _require_card_fields(body)
        assert body.card_id is not None
        assert body.payment_password is not None
        # A rerun of a request that already made its top-up answers that one's state.
        result = await resume_card_topup(engine, user_id=user.user_id, request_key=request_key)
        if result is None:
            await pin.verify(user, body.payment_password)
            services = CardTopupServices(
                engine, ledger, clock, gateway_from_app(request.app), security.cipher
            )
            result = await start_card_topup(
                services,
                user_id=user.user_id,
                card_id=body.card_id,
                amount=amount,
                request_key=request_key,
            )
        if result.outcome == "pending":
            response.status_code = 202
            return CardTopupPendingOut(topup=TopupOut.of(result.topup))
        return TopupEnvelope(topup=TopupOut.of(result.topup))
    started = await start_psp_topup(
        engine,
        psp,
        clock=clock,
        user_id=user.user_id,
        method=body.method,
        amount=amount,
        request_key=request_key,
    )
    payment = started.payment
    return TopupStartedOut(
        topup=TopupOut.of(started.topup),
        pay_url=None if payment is None else payment.pay_url,
        qr_code=None if payment is None else payment.qr_code,
    )


def _require_card_fields(body: TopupIn) -> None:
    missing = [name for name in ("card_id", "payment_password") if not getattr(body, name)]
    if missing:
        message = "required for method card"
        raise ValidationFailedError(
            f"{', '.join(missing)} {message}",
            errors=[{"loc": ["body", name], "msg": message, "type": "missing"} for name in missing],
        )


@router.get("/topups/{topup_id}", summary="One of the caller's top-ups")
async def get_one_topup(topup_id: str, user: CurrentUser, engine: EngineDep) -> TopupEnvelope:
    topup = await get_topup(engine, topup_id=topup_id, user_id=user.user_id)
    return TopupEnvelope(topup=TopupOut.of(topup))
