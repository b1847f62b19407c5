"""``PUT /v1/me/payment-password``: set or change the PIN."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser, user_actor
from ewallet.identity.payment_password import service
from ewallet.identity.payment_password.schemas import PaymentPasswordIn

router = APIRouter(prefix="/v1", tags=["account security"])


@router.put("/me/payment-password", status_code=204, summary="Set or change the payment password")
async def put_payment_password(
    *, body: PaymentPasswordIn, request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    await service.set_payment_password(
        services,
        user_id=user.user_id,
        new_pin=body.payment_password,
        current_pin=body.current_payment_password,
        actor=user_actor(request, user),
    )
    return Response(status_code=204)
