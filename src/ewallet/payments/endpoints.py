"""``/v1/payments``: a signed-in user pays a merchant order and reads their payments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ClockDep, EngineDep, LedgerDep, SettingsDep
from ewallet.http.idempotency import Idempotent, RequestKeyDep
from ewallet.identity.deps import Authenticated, CurrentUser, SecurityDep
from ewallet.payments.links import order_id_from_payload
from ewallet.payments.paying import PaymentServices, get_payment, pay_order
from ewallet.payments.schemas import PaymentEnvelope, PaymentIn, PaymentOut

router = APIRouter(prefix="/v1", tags=["payments"])


def payment_services(
    engine: EngineDep,
    ledger: LedgerDep,
    clock: ClockDep,
    settings: SettingsDep,
    security: SecurityDep,
) -> PaymentServices:
    return PaymentServices(
        engine=engine, ledger=ledger, clock=clock, settings=settings, security=security
    )


ServicesDep = Annotated[PaymentServices, Depends(payment_services)]


@router.post(
    "/payments",
    status_code=201,
    summary="Pay a merchant order (by id or QR payload): with the payment password, or "
    "password-free within the cap the user chose",
    dependencies=[Authenticated, Idempotent],
)
async def create_payment(
    body: PaymentIn,
    user: CurrentUser,
    services: ServicesDep,
    request: Request,
    request_key: RequestKeyDep,
) -> PaymentEnvelope:
    order_id = body.order_id or order_id_from_payload(body.qr_payload or "")
    ip = request.client.host if request.client else None
    payment = await pay_order(
        services,
        user_id=user.user_id,
        order_id=order_id,
        pin=body.payment_password,
        actor=Actor("user", user.user_id, ip),
        request_key=request_key,  # a rerun of a request that paid answers its payment
    )
    return PaymentEnvelope(payment=PaymentOut.of(payment))


@router.get("/payments/{payment_id}", summary="One of the caller's payments")
async def read_payment(payment_id: str, user: CurrentUser, engine: EngineDep) -> PaymentEnvelope:
    payment = await get_payment(engine, payment_id=payment_id, user_id=user.user_id)
    return PaymentEnvelope(payment=PaymentOut.of(payment))
