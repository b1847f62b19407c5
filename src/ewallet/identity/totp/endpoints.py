"""``/v1/me/totp``: start enrolment, confirm it, turn the authenticator off."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser, user_actor
from ewallet.identity.totp import service
from ewallet.identity.totp.schemas import (
    RecoveryCodesOut,
    TotpCodeIn,
    TotpDisableIn,
    TotpEnrolmentOut,
)

router = APIRouter(prefix="/v1", tags=["account security"])


@router.post("/me/totp", status_code=201, summary="Start authenticator enrolment")
async def post_totp(request: Request, user: CurrentUser, services: ServicesDep) -> TotpEnrolmentOut:
    enrolment = await service.start_enrolment(
        services, user_id=user.user_id, actor=user_actor(request, user)
    )
    return TotpEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/me/totp/confirm", summary="Turn the authenticator on; returns recovery codes")
async def post_totp_confirm(
    *, body: TotpCodeIn, request: Request, user: CurrentUser, services: ServicesDep
) -> RecoveryCodesOut:
    codes = await service.confirm_enrolment(
        services,
        user_id=user.user_id,
        totp_code=body.totp_code,
        actor=user_actor(request, user),
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete("/me/totp", status_code=204, summary="Turn the authenticator off")
async def delete_totp(
    *, body: TotpDisableIn, request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    await service.disable_totp(
        services,
        user_id=user.user_id,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        actor=user_actor(request, user),
    )
    return Response(status_code=204)
