"""``/v1/payments``: a signed-in user pays a merchant order and reads their payments."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.payments import service
from ewallet.payments.links import order_id_from_payload
from ewallet.payments.schemas import PaymentEnvelope, PaymentIn, PaymentOut

router = APIRouter(prefix="/v1", tags=["payments"])


@router.post(
    "/payments",
    status_code=201,
    summary="Pay a merchant order (by id or QR payload): with the payment password, or "
    "password-free within the cap the user chose",
    dependencies=[Authenticated, Idempotent],
)
async def create_payment(
    *,
    body: PaymentIn,
    user: CurrentUser,
    services: ServicesDep,
    request: Request,
    request_key: RequestKeyDep,
    caller: CallerDep,
) -> PaymentEnvelope:
    order_id = body.order_id or order_id_from_payload(body.qr_payload or "")
    ip = request.client.host if request.client else None
    payment = await service.pay_order(
        services,
        Actor("user", user.user_id, ip),
        user_id=user.user_id,
        order_id=order_id,
        pin=body.payment_password,
        caller=caller,
        device_id=user.device_id,
        challenge_id=body.challenge_id,
        request_key=request_key,  # a rerun of a request that paid answers its payment
    )
    return PaymentEnvelope(payment=PaymentOut.of(payment))


@router.get("/payments/{payment_id}", summary="One of the caller's payments")
async def read_payment(
    payment_id: str, user: CurrentUser, services: ServicesDep
) -> PaymentEnvelope:
    payment = await service.get_payment(services, user.user_id, payment_id=payment_id)
    return PaymentEnvelope(payment=PaymentOut.of(payment))
