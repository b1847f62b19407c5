"""Signing in and out in a browser: ``/signin``, its SMS / authenticator step-up, ``/signout``.

The same use cases as ``POST /v1/sessions`` and ``DELETE /v1/sessions/current``: the
password lock, pacing and per-address limit apply, and a browser the account does not
trust yet (no device cookie it passed a step-up with) is asked for an SMS code, or the
authenticator's code where the user turned it on. The session opened is an ordinary row of
the sessions table: it shows in the device list and ends with "sign out everywhere".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep, RuntimeDep
from ewallet.identity.sessions import service as sessions
from ewallet.identity.signin import service as signin
from ewallet.identity.stepup.views import Proof
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.web.kit.auth import SIGN_IN_PATH, local_path, web_principal
from ewallet.web.kit.cookies import (
    clear_session,
    device_key_from,
    new_device_key,
    set_device,
    set_session,
)
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

DEVICE_LABEL = "Web browser"
TEMPLATE = "wallet/signin/signin.html"


def _next(value: str | None) -> str:
    return local_path(value or "/")


@router.get(SIGN_IN_PATH)
async def sign_in_page(
    request: Request,
    services: ServicesDep,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    if await web_principal(request, services) is not None:
        return see_other(_next(next_path))
    return await page(request, services, TEMPLATE, step="password", next=_next(next_path), phone="")


@router.post(SIGN_IN_PATH)
async def sign_in(
    request: Request, form: PostedForm, services: ServicesDep, rt: RuntimeDep, caller: CallerDep
) -> Response:
    next_path = _next(form["next"])
    phone = form.text("phone")
    device_key = device_key_from(request, services) or new_device_key()
    try:
        tokens = await signin.sign_in_with_password(
            services,
            caller=caller,
            pacing=rt,
            phone=phone,
            password=form["password"],
            device=signin.DeviceInfo(key=device_key, label=DEVICE_LABEL),
        )
    except DomainError as error:
        if error.code == "step_up_required":
            return await page(
                request,
                services,
                TEMPLATE,
                step="step_up",
                next=next_path,
                phone=phone,
                challenge_id=str(error.extra["challenge_id"]),
                methods=list(error.extra.get("methods", [])),
            )
        return await page(
            request,
            services,
            TEMPLATE,
            status_code=error.status,
            step="password",
            next=next_path,
            phone=phone,
            error=refusal(request, error),
        )
    return signed_in_response(
        services, next_path, sessions.session_of(services, tokens), device_key
    )


@router.post(f"{SIGN_IN_PATH}/step-up")
async def step_up(
    request: Request, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    next_path = _next(form["next"])
    challenge_id = form["challenge_id"]
    method = "totp" if form["method"] == "totp" else "sms"
    code = form.text("code")
    proof = Proof(totp_code=code) if method == "totp" else Proof(verification_code=code)
    try:
        tokens = await signin.complete_sign_in(
            services,
            caller=caller,
            challenge_id=challenge_id,
            proof=proof,
            device_label=DEVICE_LABEL,
        )
    except DomainError as error:
        return await page(
            request,
            services,
            TEMPLATE,
            status_code=error.status,
            step="step_up",
            next=next_path,
            phone=form.text("phone"),
            challenge_id=challenge_id,
            methods=[m for m in form["methods"].split(",") if m] or ["sms"],
            error=refusal(request, error),
        )
    device_key = device_key_from(request, services) or tokens.device_key
    return signed_in_response(
        services, next_path, sessions.session_of(services, tokens), device_key
    )


def signed_in_response(
    services: Services, next_path: str, session_id: str, device_key: str
) -> Response:
    """Go to ``next_path`` with the session's cookie (and this browser's device cookie)."""
    response = see_other(next_path)
    set_session(response, services, session_id)
    set_device(response, services, device_key)
    return response


@router.post("/signout")
async def sign_out(
    request: Request, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    principal = await web_principal(request, services)
    if principal is not None:
        await sessions.sign_out(
            services, caller=caller, user_id=principal.user_id, session_id=principal.session_id
        )
    response = see_other("/")
    clear_session(response, services)
    return response
