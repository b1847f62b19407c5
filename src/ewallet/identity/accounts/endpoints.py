"""``POST /v1/users`` (registration) and the signed-in user's own account under ``/v1/me``.

Two routers, so the API keeps its order: registration sits with the public identity
routes, the profile with the ``/v1/me`` ones (``ewallet.identity.endpoints``).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ewallet.http.deps import ServicesDep
from ewallet.identity.accounts import service
from ewallet.identity.accounts.schemas import (
    PasswordChangeRequest,
    ProfilePatch,
    RegisteredOut,
    RegisterRequest,
    UserOut,
)
from ewallet.identity.deps import CurrentUser
from ewallet.identity.runtime import CallerDep, RuntimeDep
from ewallet.identity.sessions.schemas import TokensOut
from ewallet.identity.signin.service import DeviceInfo

router = APIRouter(prefix="/v1", tags=["identity"])
me_router = APIRouter(prefix="/v1/me", tags=["identity"])


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def register_user(
    body: RegisterRequest, services: ServicesDep, caller: CallerDep
) -> RegisteredOut:
    """Open an account with a proven ``register`` code; signs the device in."""
    registered = await service.register(
        services,
        caller=caller,
        phone=body.phone,
        verification_code=body.verification_code,
        login_password=body.login_password,
        locale=body.locale,
        device=DeviceInfo.given(body.device_id, body.device_label),
    )
    return RegisteredOut(user=UserOut.of(registered.user), tokens=TokensOut.of(registered.tokens))


@me_router.get("")
async def get_me(user: CurrentUser, services: ServicesDep) -> UserOut:
    """Profile, tier, status and a summary of the security settings."""
    return UserOut.of(await service.get_profile(services, user_id=user.user_id))


@me_router.patch("")
async def patch_me(
    body: ProfilePatch, user: CurrentUser, services: ServicesDep, caller: CallerDep
) -> UserOut:
    """Change ``locale`` (zh-CN or en) and/or ``nickname`` (at most 20 characters; null clears)."""
    fields = body.model_fields_set
    updated = await service.update_profile(
        services,
        caller=caller,
        user_id=user.user_id,
        locale=body.locale if "locale" in fields else service.UNSET,
        nickname=body.nickname if "nickname" in fields else service.UNSET,
    )
    return UserOut.of(updated)


@me_router.put("/login-password", status_code=status.HTTP_204_NO_CONTENT)
async def change_login_password(
    body: PasswordChangeRequest,
    user: CurrentUser,
    services: ServicesDep,
    caller: CallerDep,
    rt: RuntimeDep,
) -> Response:
    """Needs the current password; signs out every other session."""
    await service.change_login_password(
        services,
        caller=caller,
        pacing=rt,
        user_id=user.user_id,
        session_id=user.session_id,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
