"""Public identity routes: codes, registration, sign-in, step-up, refresh, sign-out.

Thin on purpose: parse the body, call one service, shape the answer. What each refusal
means is written in the service modules (verification, registration, signin, sessions).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ewallet.identity import registration, sessions, signin, verification
from ewallet.identity.codes import Purpose
from ewallet.identity.deps import CurrentUser
from ewallet.identity.runtime import CallerDep, RuntimeDep
from ewallet.identity.schemas import (
    CodeRequest,
    CodeSentOut,
    RefreshRequest,
    RegisteredOut,
    RegisterRequest,
    SignedInOut,
    SignInRequest,
    StepUpRequest,
    TokensOut,
    UserOut,
)
from ewallet.identity.signin import DeviceInfo
from ewallet.identity.stepup import Proof

router = APIRouter(prefix="/v1", tags=["identity"])


def device_info(device_id: str | None, device_label: str | None) -> DeviceInfo:
    label = device_label.strip() if device_label else None
    return DeviceInfo(key=device_id, label=label or None)


@router.post("/verification-codes", status_code=status.HTTP_202_ACCEPTED)
async def request_verification_code(
    body: CodeRequest, rt: RuntimeDep, caller: CallerDep
) -> CodeSentOut:
    """Text a 6-digit code. The same 202 for every well-formed phone, account or not."""
    sent = await verification.request_code(
        rt, caller=caller, phone=body.phone, purpose=Purpose(body.purpose)
    )
    return CodeSentOut(expires_in=sent.expires_in, resend_after=sent.resend_after)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def register_user(body: RegisterRequest, rt: RuntimeDep, caller: CallerDep) -> RegisteredOut:
    """Open an account with a proven ``register`` code; signs the device in."""
    registered = await registration.register(
        rt,
        caller=caller,
        phone=body.phone,
        verification_code=body.verification_code,
        login_password=body.login_password,
        locale=body.locale,
        device=device_info(body.device_id, body.device_label),
    )
    return RegisteredOut(user=UserOut.of(registered.user), tokens=TokensOut.of(registered.tokens))


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(body: SignInRequest, rt: RuntimeDep, caller: CallerDep) -> SignedInOut:
    """Sign in with the login password or an SMS ``login`` code; a new device gets
    ``401 step_up_required`` with a ``challenge_id``."""
    device = device_info(body.device_id, body.device_label)
    if body.login_password is not None:
        tokens = await signin.sign_in_with_password(
            rt, caller=caller, phone=body.phone, password=body.login_password, device=device
        )
    else:
        assert body.verification_code is not None
        tokens = await signin.sign_in_with_code(
            rt, caller=caller, phone=body.phone, code=body.verification_code, device=device
        )
    return SignedInOut(tokens=TokensOut.of(tokens))


@router.post("/sessions/step-up", status_code=status.HTTP_201_CREATED)
async def complete_step_up(body: StepUpRequest, rt: RuntimeDep, caller: CallerDep) -> SignedInOut:
    """Pass a new-device challenge with an SMS ``step_up`` code or an authenticator code."""
    tokens = await signin.complete_sign_in(
        rt,
        caller=caller,
        challenge_id=body.challenge_id,
        proof=Proof(verification_code=body.verification_code, totp_code=body.totp_code),
        device_label=device_info(None, body.device_label).label,
    )
    return SignedInOut(tokens=TokensOut.of(tokens))


@router.post("/sessions/refresh", status_code=status.HTTP_201_CREATED)
async def refresh_session(body: RefreshRequest, rt: RuntimeDep, caller: CallerDep) -> SignedInOut:
    """Rotate the refresh token; a reused one revokes the whole session."""
    tokens = await sessions.refresh(rt, caller=caller, refresh_token=body.refresh_token)
    return SignedInOut(tokens=TokensOut.of(tokens))


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(user: CurrentUser, rt: RuntimeDep, caller: CallerDep) -> Response:
    """Sign this session out."""
    await sessions.sign_out(rt, caller=caller, principal=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
