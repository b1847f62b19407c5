"""The signed-in user's routes: profile, login password, devices, action step-up."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response, status

from ewallet.identity import devices, profile
from ewallet.identity.deps import CurrentUser
from ewallet.identity.runtime import CallerDep, RuntimeDep
from ewallet.identity.schemas import (
    ChallengePassedOut,
    DeviceListOut,
    DeviceOut,
    PasswordChangeRequest,
    ProfilePatch,
    StepUpRequest,
    UserOut,
)
from ewallet.identity.stepup import Proof, complete_action_challenge

router = APIRouter(prefix="/v1/me", tags=["identity"])


@router.get("")
async def get_me(user: CurrentUser, rt: RuntimeDep) -> UserOut:
    """Profile, tier, status and a summary of the security settings."""
    return UserOut.of(await profile.get_profile(rt, principal=user))


@router.patch("")
async def patch_me(
    body: ProfilePatch, user: CurrentUser, rt: RuntimeDep, caller: CallerDep
) -> UserOut:
    """Change ``locale`` (zh-CN or en) and/or ``nickname`` (at most 20 characters; null clears)."""
    fields = body.model_fields_set
    updated = await profile.update_profile(
        rt,
        caller=caller,
        principal=user,
        locale=body.locale if "locale" in fields else profile.UNSET,
        nickname=body.nickname if "nickname" in fields else profile.UNSET,
    )
    return UserOut.of(updated)


@router.put("/login-password", status_code=status.HTTP_204_NO_CONTENT)
async def change_login_password(
    body: PasswordChangeRequest, user: CurrentUser, rt: RuntimeDep, caller: CallerDep
) -> Response:
    """Needs the current password; signs out every other session."""
    await profile.change_login_password(
        rt,
        caller=caller,
        principal=user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/devices")
async def list_my_devices(user: CurrentUser, rt: RuntimeDep) -> DeviceListOut:
    """Devices signed in to this account; ``current`` marks the calling one."""
    views = await devices.list_devices(rt, principal=user)
    return DeviceListOut(items=[DeviceOut(**asdict(view)) for view in views])


@router.delete("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out_device(
    device_id: str, user: CurrentUser, rt: RuntimeDep, caller: CallerDep
) -> Response:
    """Sign that device out (its sessions end now; signing in there again needs a step-up)."""
    await devices.sign_out_device(rt, caller=caller, principal=user, device_id=device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/step-up")
async def pass_step_up(
    body: StepUpRequest, user: CurrentUser, rt: RuntimeDep, caller: CallerDep
) -> ChallengePassedOut:
    """Pass a challenge a risky action asked for; then repeat the action with its id."""
    await complete_action_challenge(
        rt,
        caller=caller,
        principal=user,
        challenge_id=body.challenge_id,
        proof=Proof(verification_code=body.verification_code, totp_code=body.totp_code),
    )
    return ChallengePassedOut(challenge_id=body.challenge_id)
