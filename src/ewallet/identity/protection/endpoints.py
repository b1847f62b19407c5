"""``POST /v1/me/freeze``, the owner's ``POST /v1/me/unfreeze`` (and its code), and
``PUT``/``DELETE /v1/me/anti-phishing-code``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from ewallet.http.deps import ServicesDep
from ewallet.identity.codes.schemas import CodeSentOut
from ewallet.identity.deps import CurrentUser, user_actor
from ewallet.identity.protection import service
from ewallet.identity.protection.schemas import (
    AntiPhishingCodeIn,
    AntiPhishingCodeOut,
    FreezeIn,
    FreezeOut,
    UnfreezeIn,
    UnfrozenOut,
)
from ewallet.identity.runtime import CallerDep

router = APIRouter(prefix="/v1", tags=["account security"])


@router.post("/me/freeze", summary="Freeze the account at once")
async def post_freeze(
    *, body: FreezeIn, request: Request, user: CurrentUser, services: ServicesDep
) -> FreezeOut:
    frozen_at = await service.freeze_own_account(
        services,
        user_id=user.user_id,
        session_id=user.session_id,
        proof=service.FreezeProof(body.payment_password, body.verification_code),
        actor=user_actor(request, user),
    )
    return FreezeOut(frozen_at=frozen_at)


@router.post(
    "/me/unfreeze/code",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Text the owner a code to unfreeze the account",
)
async def post_unfreeze_code(
    user: CurrentUser, services: ServicesDep, caller: CallerDep
) -> CodeSentOut:
    sent = await service.request_unfreeze_code(services, caller=caller, user_id=user.user_id)
    return CodeSentOut(expires_in=sent.expires_in, resend_after=sent.resend_after)


@router.post("/me/unfreeze", summary="Unfreeze my own account (a freeze by me or risk control)")
async def post_unfreeze(
    *, body: UnfreezeIn, request: Request, user: CurrentUser, services: ServicesDep
) -> UnfrozenOut:
    unfrozen_at = await service.unfreeze_own_account(
        services,
        user_id=user.user_id,
        proof=service.UnfreezeProof(
            real_name=body.real_name,
            id_number=body.id_number,
            verification_code=body.verification_code,
            payment_password=body.payment_password,
            totp_code=body.totp_code,
        ),
        actor=user_actor(request, user),
    )
    return UnfrozenOut(unfrozen_at=unfrozen_at)


@router.put("/me/anti-phishing-code", summary="Set the code every message of ours starts with")
async def put_anti_phishing_code(
    body: AntiPhishingCodeIn, request: Request, user: CurrentUser, services: ServicesDep
) -> AntiPhishingCodeOut:
    code = await service.set_anti_phishing_code(
        services, user_id=user.user_id, code=body.code, actor=user_actor(request, user)
    )
    return AntiPhishingCodeOut(anti_phishing_code=code)


@router.delete("/me/anti-phishing-code", status_code=204, summary="Remove the anti-phishing code")
async def delete_anti_phishing_code(
    request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    await service.set_anti_phishing_code(
        services, user_id=user.user_id, code=None, actor=user_actor(request, user)
    )
    return Response(status_code=204)
