"""Pages of the wallet: the devices signed in to the account (``/security/devices``).

The list is ``GET /v1/me/devices``'s (:func:`ewallet.identity.devices.service.list_devices`),
with this browser marked. Signing a device out is ``DELETE /v1/me/devices/{id}``'s use
case: its sessions end at once, for the API as for browsers, and it must pass a step-up
to sign in again; another user's device id answers ``not_found`` (a 404 page, nothing
changed). "Sign out all other devices" ends every session but this browser's
(:func:`~ewallet.identity.devices.service.sign_out_other_devices`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.devices import service as devices
from ewallet.identity.runtime import CallerDep
from ewallet.web.kit.auth import WebUser
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LIST = "/security/devices"


@router.get(LIST)
async def device_list(request: Request, services: ServicesDep, user: WebUser) -> Response:
    items = await devices.list_devices(services, user_id=user.user_id, session_id=user.session_id)
    done = request.query_params.get("done", "")
    return await page(
        request,
        services,
        "wallet/security/devices.html",
        devices=items,
        others=sum(1 for item in items if not item.current),
        done=done if done in ("one", "others") else "",
    )


@router.post(f"{LIST}/sign-out-others")
async def sign_out_others(
    form: PostedForm, services: ServicesDep, user: WebUser, caller: CallerDep
) -> Response:
    await devices.sign_out_other_devices(
        services, caller=caller, user_id=user.user_id, session_id=user.session_id
    )
    return see_other(f"{LIST}?done=others")


@router.post(LIST + "/{device_id}/sign-out")
async def sign_out_device(
    device_id: Annotated[str, Path(max_length=64)],
    form: PostedForm,
    services: ServicesDep,
    user: WebUser,
    caller: CallerDep,
) -> Response:
    """``not_found`` (another user's id, or one already signed out) becomes the 404 page."""
    await devices.sign_out_device(
        services, caller=caller, user_id=user.user_id, device_id=device_id
    )
    return see_other(f"{LIST}?done=one")
