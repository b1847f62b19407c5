"""``POST /v1/sessions`` and ``POST /v1/sessions/step-up``: parse, one service call, tokens."""

from __future__ import annotations

from fastapi import APIRouter, status

from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep, RuntimeDep
from ewallet.identity.sessions.schemas import SignedInOut, TokensOut
from ewallet.identity.signin import service
from ewallet.identity.signin.schemas import SignInRequest
from ewallet.identity.signin.service import DeviceInfo
from ewallet.identity.stepup.schemas import StepUpRequest
from ewallet.identity.stepup.views import Proof

router = APIRouter(prefix="/v1", tags=["identity"])


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(
    body: SignInRequest, services: ServicesDep, caller: CallerDep, rt: RuntimeDep
) -> SignedInOut:
    """Sign in with the login password or an SMS ``login`` code; a new device gets
    ``401 step_up_required`` with a ``challenge_id``."""
    tokens = await service.sign_in(
        services,
        caller=caller,
        pacing=rt,
        phone=body.phone,
        password=body.login_password,
        code=body.verification_code,
        device=DeviceInfo.given(body.device_id, body.device_label),
    )
    return SignedInOut(tokens=TokensOut.of(tokens))


@router.post("/sessions/step-up", status_code=status.HTTP_201_CREATED)
async def complete_step_up(
    body: StepUpRequest, services: ServicesDep, caller: CallerDep
) -> SignedInOut:
    """Pass a new-device challenge with an SMS ``step_up`` code or an authenticator code."""
    tokens = await service.complete_sign_in(
        services,
        caller=caller,
        challenge_id=body.challenge_id,
        proof=Proof(verification_code=body.verification_code, totp_code=body.totp_code),
        device_label=DeviceInfo.given(None, body.device_label).label,
    )
    return SignedInOut(tokens=TokensOut.of(tokens))
