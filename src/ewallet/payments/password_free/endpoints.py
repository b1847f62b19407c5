"""``/v1/me/password-free-payments``: see and change the password-free small-payment setting."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.payments.password_free import service
from ewallet.payments.password_free.schemas import PasswordFreeIn, PasswordFreeOut
from ewallet.payments.schemas import parse_amount

router = APIRouter(prefix="/v1/me", tags=["payments"])


@router.get("/password-free-payments", summary="Password-free small payments: on/off, caps")
async def read_setting(user: CurrentUser, services: ServicesDep) -> PasswordFreeOut:
    return PasswordFreeOut.of(await service.get_setting(services, user.user_id))


@router.put(
    "/password-free-payments",
    summary="Turn password-free small payments on or change the cap (PIN), or off (no PIN)",
)
async def change_setting(
    body: PasswordFreeIn, user: CurrentUser, request: Request, services: ServicesDep
) -> PasswordFreeOut:
    cap = parse_amount(body.per_payment_cap) if body.per_payment_cap is not None else None
    ip = request.client.host if request.client else None
    view = await service.change_setting(
        services,
        Actor("user", user.user_id, ip),
        user_id=user.user_id,
        enabled=body.enabled,
        per_payment_cap=cap,
        pin=body.payment_password,
    )
    return PasswordFreeOut.of(view)
