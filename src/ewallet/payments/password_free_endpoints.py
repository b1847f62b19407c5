"""``/v1/me/password-free-payments``: see and change the password-free small-payment setting."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ewallet.audit.service import Actor
from ewallet.http.deps import ClockDep, EngineDep, SettingsDep
from ewallet.identity.deps import CurrentUser
from ewallet.identity.payment_password.service import PaymentPasswordDep
from ewallet.payments import password_free
from ewallet.payments.merchant_endpoints import parse_amount
from ewallet.payments.payment_code_schemas import PasswordFreeIn, PasswordFreeOut

router = APIRouter(prefix="/v1/me", tags=["payments"])


@router.get("/password-free-payments", summary="Password-free small payments: on/off, caps")
async def read_setting(
    user: CurrentUser, engine: EngineDep, clock: ClockDep, settings: SettingsDep
) -> PasswordFreeOut:
    view = await password_free.get_setting(
        engine, clock=clock, settings=settings, user_id=user.user_id
    )
    return PasswordFreeOut.of(view)


@router.put(
    "/password-free-payments",
    summary="Turn password-free small payments on or change the cap (PIN), or off (no PIN)",
)
async def change_setting(
    *,
    body: PasswordFreeIn,
    user: CurrentUser,
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    pin: PaymentPasswordDep,
) -> PasswordFreeOut:
    cap = parse_amount(body.per_payment_cap) if body.per_payment_cap is not None else None
    password_free.check_change(enabled=body.enabled, per_payment_cap=cap, pin=body.payment_password)
    if body.enabled:
        assert body.payment_password is not None  # check_change refused its absence
        await pin.verify(user, body.payment_password)
    ip = request.client.host if request.client else None
    view = await password_free.change_setting(
        engine,
        clock=clock,
        settings=settings,
        user_id=user.user_id,
        enabled=body.enabled,
        per_payment_cap=cap,
        actor=Actor("user", user.user_id, ip),
    )
    return PasswordFreeOut.of(view)
