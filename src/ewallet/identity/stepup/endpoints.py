"""``POST /v1/me/step-up``: pass a challenge a risky action asked for."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.identity.runtime import CallerDep
from ewallet.identity.stepup import service
from ewallet.identity.stepup.schemas import ChallengePassedOut, StepUpRequest
from ewallet.identity.stepup.views import Proof

router = APIRouter(prefix="/v1/me", tags=["identity"])


@router.post("/step-up")
async def pass_step_up(
    body: StepUpRequest, user: CurrentUser, services: ServicesDep, caller: CallerDep
) -> ChallengePassedOut:
    """Pass a challenge a risky action asked for; then repeat the action with its id."""
    await service.complete_action_challenge(
        services,
        caller=caller,
        user_id=user.user_id,
        challenge_id=body.challenge_id,
        proof=Proof(verification_code=body.verification_code, totp_code=body.totp_code),
    )
    return ChallengePassedOut(challenge_id=body.challenge_id)
