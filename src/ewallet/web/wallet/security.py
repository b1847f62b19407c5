"""Pages of the wallet: the security centre, the anti-phishing code and freezing the account.

- ``/security``: where each protection stands (devices, authenticator, anti-phishing code,
  freeze), from the profile ``GET /v1/me`` reads;
- ``/security/anti-phishing``: set, change or remove the code every SMS and email of ours
  starts with (:func:`ewallet.identity.protection.service.set_anti_phishing_code`, as
  ``PUT``/``DELETE /v1/me/anti-phishing-code``);
- ``/security/freeze``: the owner's emergency brake, proven with the payment password or
  an SMS code of purpose ``freeze`` as ``POST /v1/me/freeze`` requires
  (:func:`~ewallet.identity.protection.service.freeze_own_account`). This browser stays
  signed in, every other session ends, and money actions answer ``account_frozen``.
  Unfreezing is staff-only (they check who is asking), so a frozen account is shown the
  hotline to call.

The device list (``devices.py``) and the authenticator (``totp.py``) have modules of their own.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.accounts.service import get_profile
from ewallet.identity.protection import service as protection
from ewallet.identity.runtime import CallerDep
from ewallet.kit.errors import DomainError
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

HUB = "wallet/security/security.html"
ANTI_PHISHING = "wallet/security/anti_phishing.html"
FREEZE = "wallet/security/freeze.html"


@router.get("/security")
async def security_centre(request: Request, services: ServicesDep, user: WebUser) -> Response:
    profile = await get_profile(services, user_id=user.user_id)
    return await page(request, services, HUB, profile=profile)


# --- Anti-phishing code --------------------------------------------------------------------


@router.get("/security/anti-phishing")
async def anti_phishing_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    profile = await get_profile(services, user_id=user.user_id)
    return await page(
        request,
        services,
        ANTI_PHISHING,
        current=profile.anti_phishing_code,
        known=True,
        typed="",
        done=request.query_params.get("done", ""),
    )


@router.post("/security/anti-phishing")
async def set_anti_phishing(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    typed = form.text("code")
    try:
        await protection.set_anti_phishing_code(
            services, user_id=user.user_id, code=typed, actor=actor_of(request, user)
        )
    except DomainError as error:
        return await page(
            request,
            services,
            ANTI_PHISHING,
            status_code=error.status,
            current=None,
            known=False,  # unchanged, and not read again: the form alone
            typed=typed,
            done="",
            error=_t(
                "Use 2 to 8 letters, digits or Chinese characters, with no spaces or symbols.",
                locale_of(request),
            )
            if error.code == "validation_error"
            else refusal(request, error),
        )
    return see_other("/security/anti-phishing?done=set")


@router.post("/security/anti-phishing/remove")
async def remove_anti_phishing(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    await protection.set_anti_phishing_code(
        services, user_id=user.user_id, code=None, actor=actor_of(request, user)
    )
    return see_other("/security/anti-phishing?done=removed")


# --- Freezing ------------------------------------------------------------------------------


@router.get("/security/freeze")
async def freeze_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    profile = await get_profile(services, user_id=user.user_id)
    sms_sent = request.query_params.get("sms") == "sent"
    return await page(
        request,
        services,
        FREEZE,
        frozen=profile.status == "frozen",
        frozen_at=profile.frozen_at,
        done=request.query_params.get("done") == "1",
        has_pin=profile.payment_password_hash is not None,
        method="sms" if sms_sent else "pin",
        sms_sent=sms_sent,
        hotline=services.settings.hotline,
    )


async def _freeze_form(
    request: Request,
    services: ServicesDep,
    form: PostedForm,
    *,
    status_code: int,
    error: str,
    sms_sent: bool,
) -> Response:
    """The freeze page again after a refusal, from what the form carried (the account is
    unchanged, so it is still active)."""
    return await page(
        request,
        services,
        FREEZE,
        status_code=status_code,
        frozen=False,
        frozen_at=None,
        done=False,
        has_pin=form["has_pin"] == "1",
        method="sms" if form["method"] == "sms" else "pin",
        sms_sent=sms_sent,
        hotline=services.settings.hotline,
        error=error,
    )


@router.get("/security/freeze/code")
async def freeze_code_page(user: WebUser) -> Response:
    """The code form's address opened again (a reload after a refusal): the freeze page."""
    return see_other("/security/freeze")


@router.post("/security/freeze/code")
async def send_freeze_code(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser, caller: CallerDep
) -> Response:
    try:
        await protection.request_freeze_code(services, caller=caller, user_id=user.user_id)
    except DomainError as error:
        if error.code == "account_frozen":
            return see_other("/security/freeze")
        return await _freeze_form(
            request,
            services,
            form,
            status_code=error.status,
            error=refusal(request, error),
            sms_sent=form["sms_sent"] == "1",
        )
    return see_other("/security/freeze?sms=sent")


@router.post("/security/freeze")
async def freeze(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    by_sms = form["method"] == "sms"
    secret = form.text("code") if by_sms else form["payment_password"]
    if not secret:
        message = (
            _t("Enter the 6-digit code we texted you.", locale_of(request))
            if by_sms
            else _t("Enter your 6-digit payment password.", locale_of(request))
        )
        return await _freeze_form(
            request, services, form, status_code=422, error=message, sms_sent=by_sms
        )
    proof = (
        protection.FreezeProof(verification_code=secret)
        if by_sms
        else protection.FreezeProof(payment_password=secret)
    )
    try:
        await protection.freeze_own_account(
            services,
            user_id=user.user_id,
            session_id=user.session_id,
            proof=proof,
            actor=actor_of(request, user),
        )
    except DomainError as error:
        if error.code == "account_frozen":
            return see_other("/security/freeze")
        return await _freeze_form(
            request,
            services,
            form,
            status_code=error.status,
            error=refusal(request, error),
            sms_sent=by_sms,
        )
    return see_other("/security/freeze?done=1")
