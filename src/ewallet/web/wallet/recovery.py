"""A forgotten login password, in a browser: ``/forgot-password`` (phone, SMS code, a new
password) and the page that sends the person to sign in with it.

The same use cases as ``POST /v1/verification-codes`` (purpose ``reset_login_password``)
and ``POST /v1/password-resets`` (kind ``login``): the code is the proof, a wrong one
counts, the policy is checked before the code is spent, and nothing tells whether the
phone has an account. The browser sends no access token, so -- as the API does for a
caller without one -- every session of the account ends, this browser's included.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.recovery import service as recovery
from ewallet.identity.runtime import CallerDep
from ewallet.kit.errors import DomainError
from ewallet.models.identity import CodePurpose
from ewallet.services import Services
from ewallet.web.kit.cookies import clear_session
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.wallet.register import (
    CODE_ERRORS,
    code_step,
    password_refusal,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PATH: Final = "/forgot-password"
TEMPLATE: Final = "wallet/recovery/forgot.html"

SHOWN: Final[dict[str, Any]] = {
    "step": "phone",
    "phone": "",
    "wait": 0,
    "remaining": None,
    "sent": False,
    "code": "",
    "code_error": False,
    "password_error": None,
}


async def _page(
    request: Request, services: Services, status_code: int = 200, **shown: Any
) -> Response:
    return await page(request, services, TEMPLATE, status_code=status_code, **{**SHOWN, **shown})


@router.get(PATH)
async def forgot_page(request: Request, services: ServicesDep) -> Response:
    return await _page(request, services)


@router.get(f"{PATH}/code")
async def code_step_again() -> Response:
    """The code step is the answer to a post; reached by address, it starts over."""
    return see_other(PATH)


@router.post(f"{PATH}/code")
async def send_code(
    request: Request, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    """Text a ``reset_login_password`` code (only a phone with an account gets one; the
    page says the same either way)."""
    return await code_step(
        request,
        form,
        services,
        caller,
        purpose=CodePurpose.RESET_LOGIN_PASSWORD,
        template=TEMPLATE,
        defaults=SHOWN,
    )


@router.post(PATH)
async def reset(request: Request, form: PostedForm, services: ServicesDep) -> Response:
    phone = form.text("phone")
    code = form.text("code")
    try:
        await recovery.reset_password(
            services,
            request=recovery.ResetRequest(
                phone=phone,
                verification_code=code,
                kind=recovery.ResetKind.LOGIN,
                new_password=form["password"],
                client_ip=request.client.host if request.client else None,
            ),
        )
    except DomainError as error:
        weak = error.code == "weak_password"
        return await _page(
            request,
            services,
            status_code=error.status,
            step="phone" if error.code == "invalid_phone" else "code",
            phone=phone,
            code=code if weak else "",
            error=None if weak else refusal(request, error),
            remaining=error.extra.get("remaining_attempts"),
            password_error=password_refusal(request, error) if weak else None,
            code_error=error.code in CODE_ERRORS,
        )
    response = see_other(f"{PATH}/done")
    clear_session(response, services)  # every session of the account has ended
    return response


@router.get(f"{PATH}/done")
async def done(request: Request, services: ServicesDep) -> Response:
    return await page(request, services, "wallet/recovery/done.html")
