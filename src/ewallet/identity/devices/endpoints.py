"""``GET /v1/me/devices`` and ``DELETE /v1/me/devices/{device_id}``."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.identity.devices import service
from ewallet.identity.devices.schemas import DeviceListOut, DeviceOut
from ewallet.identity.runtime import CallerDep

router = APIRouter(prefix="/v1/me", tags=["identity"])


@router.get("/devices")
async def list_my_devices(user: CurrentUser, services: ServicesDep) -> DeviceListOut:
    """Devices signed in to this account; ``current`` marks the calling one."""
    views = await service.list_devices(services, user_id=user.user_id, session_id=user.session_id)
    return DeviceListOut(items=[DeviceOut.of(view) for view in views])


@router.delete("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out_device(
    device_id: str, user: CurrentUser, services: ServicesDep, caller: CallerDep
) -> Response:
    """Sign that device out (its sessions end now; signing in there again needs a step-up)."""
    await service.sign_out_device(
        services, caller=caller, user_id=user.user_id, device_id=device_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
