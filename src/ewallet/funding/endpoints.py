"""``POST /v1/topups`` and ``GET /v1/topups/{id}`` (signed-in users)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ewallet.funding.psp_topups import start_psp_topup
from ewallet.funding.schemas import TopupEnvelope, TopupIn, TopupOut, TopupStartedOut
from ewallet.funding.service import get_topup
from ewallet.http.deps import ClockDep, EngineDep
from ewallet.http.idempotency import Idempotent
from ewallet.identity.deps import CurrentUser
from ewallet.integrations.psp import PspChannels
from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.money import InvalidAmountError, Money

router = APIRouter(prefix="/v1", tags=["funding"])


def get_psp(request: Request) -> PspChannels:
    psp: PspChannels = request.app.state.psp
    return psp


PspDep = Annotated[PspChannels, Depends(get_psp)]


@router.post(
    "/topups",
    status_code=201,
    summary="Top up the wallet through Alipay or WeChat Pay (pay the returned QR code)",
    dependencies=[Idempotent],
)
async def post_topup(
    body: TopupIn, user: CurrentUser, engine: EngineDep, clock: ClockDep, psp: PspDep
) -> TopupStartedOut:
    if body.method == "card":
        message = "card top-ups are not available yet: use method alipay or wechat_pay"
        raise ValidationFailedError(
            message,
            errors=[{"loc": ["body", "method"], "msg": message, "type": "not_available"}],
        )
    if not isinstance(body.amount, str):
        raise InvalidAmountError("amount must be a decimal string")
    amount = Money.parse(body.amount)
    started = await start_psp_topup(
        engine, psp, clock=clock, user_id=user.user_id, method=body.method, amount=amount
    )
    return TopupStartedOut(
        topup=TopupOut.of(started.topup),
        pay_url=started.payment.pay_url,
        qr_code=started.payment.qr_code,
    )


@router.get("/topups/{topup_id}", summary="One of the caller's top-ups")
async def get_one_topup(topup_id: str, user: CurrentUser, engine: EngineDep) -> TopupEnvelope:
    topup = await get_topup(engine, topup_id=topup_id, user_id=user.user_id)
    return TopupEnvelope(topup=TopupOut.of(topup))
