"""``POST /v1/password-resets``: public -- the SMS code is the proof; a Bearer token, when
sent, only keeps the resetting device signed in."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import bearer_token
from ewallet.identity.recovery import service
from ewallet.identity.recovery.schemas import PasswordResetIn

router = APIRouter(prefix="/v1", tags=["account security"])


@router.post("/password-resets", status_code=204, summary="Reset a forgotten password by SMS")
async def post_password_reset(
    *, body: PasswordResetIn, request: Request, services: ServicesDep
) -> Response:
    reset = service.ResetRequest(
        phone=body.phone,
        verification_code=body.verification_code,
        kind=service.ResetKind(body.kind),
        new_password=body.new_password,
        identity=body.identity,
        bearer_token=bearer_token(request),
        client_ip=request.client.host if request.client else None,
    )
    await service.reset_password(services, request=reset)
    return Response(status_code=204)
