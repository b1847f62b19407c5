"""``POST /v1/topups``, ``GET /v1/topups/{id}`` (signed-in users) and the PSPs'
notifications ``POST /v1/callbacks/alipay`` and ``/v1/callbacks/wechat-pay``.

The notification routes are public (the PSP authenticates by signature) and answer exactly
what their PSP expects (docs/psp.md), never problem+json: Alipay ``200 success`` /
``200 fail``; WeChat Pay ``204`` or a 4xx/5xx ``{"code": "FAIL", "message": ...}``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.funding.topups.card.service import top_up_from_card
from ewallet.funding.topups.schemas import (
    CardTopupPendingOut,
    TopupEnvelope,
    TopupIn,
    TopupOut,
    TopupStartedOut,
)
from ewallet.funding.topups.service import (
    get_topup,
    receive_alipay_notice,
    receive_wechat_notice,
    start_psp_topup,
)
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.integrations.psp import alipay_ack, wechat_ack
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import ValidationFailedError

router = APIRouter(prefix="/v1", tags=["funding"])
notify_router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], include_in_schema=False)


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
    services: ServicesDep,
    request_key: RequestKeyDep,
) -> TopupStartedOut | TopupEnvelope | CardTopupPendingOut:
    amount = parse_amount(body.amount)
    if body.method == "card":
        card_id, payment_password = _card_fields(body)
        result = await top_up_from_card(
            services,
            user.user_id,
            Actor("user", user.user_id, request.client.host if request.client else None),
            card_id=card_id,
            amount=amount,
            payment_password=payment_password,
            request_key=request_key,
        )
        if result.outcome == "pending":
            response.status_code = 202
            return CardTopupPendingOut(topup=TopupOut.of(result.topup))
        return TopupEnvelope(topup=TopupOut.of(result.topup))
    started = await start_psp_topup(
        services, user.user_id, method=body.method, amount=amount, request_key=request_key
    )
    payment = started.payment
    return TopupStartedOut(
        topup=TopupOut.of(started.topup),
        pay_url=None if payment is None else payment.pay_url,
        qr_code=None if payment is None else payment.qr_code,
    )


def _card_fields(body: TopupIn) -> tuple[str, str]:
    """``card_id`` and ``payment_password``, which ``method: card`` requires (else 422)."""
    missing = [name for name in ("card_id", "payment_password") if not getattr(body, name)]
    if missing:
        message = "required for method card"
        raise ValidationFailedError(
            f"{', '.join(missing)} {message}",
            errors=[{"loc": ["body", name], "msg": message, "type": "missing"} for name in missing],
        )
    assert body.card_id is not None
    assert body.payment_password is not None
    return body.card_id, body.payment_password


@router.get("/topups/{topup_id}", summary="One of the caller's top-ups")
async def get_one_topup(topup_id: str, user: CurrentUser, services: ServicesDep) -> TopupEnvelope:
    topup = await get_topup(services, user.user_id, topup_id=topup_id)
    return TopupEnvelope(topup=TopupOut.of(topup))


@notify_router.post("/alipay", summary="Alipay's asynchronous payment notification")
async def alipay_callback(request: Request, services: ServicesDep) -> Response:
    answer = await receive_alipay_notice(services, await request.body())
    return alipay_ack(accepted=answer.accepted)


@notify_router.post("/wechat-pay", summary="WeChat Pay's asynchronous payment notification")
async def wechat_pay_callback(request: Request, services: ServicesDep) -> Response:
    answer = await receive_wechat_notice(services, request.headers, await request.body())
    if answer.accepted:
        return wechat_ack(accepted=True)
    return wechat_ack(accepted=False, status_code=answer.status_code, message=answer.message)
