"""The payment password in a browser: ``/me/payment-password`` (set the first one, or change
it with the current one) and ``/me/payment-password/forgot`` (reset it with an SMS code and,
where the account has them, an identity detail).

The same use cases as ``PUT /v1/me/payment-password`` and ``POST /v1/password-resets``
(kind ``payment``; here on the account's own phone): the PIN policy, a wrong current PIN
counted toward the lock exactly as a payment's is, the daily cap, the identity factors of a
verified account. Typing the new PIN twice is the page's own check: two entries that
differ are answered before any service is asked, so nothing is counted or changed.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.accounts import service as accounts
from ewallet.identity.payment_password import service as payment_password
from ewallet.identity.recovery import service as recovery
from ewallet.identity.runtime import CallerDep
from ewallet.kit.errors import DomainError
from ewallet.kit.phone import mask_phone
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import Form, PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.wallet.register import CODE_ERRORS, page_caller, password_refusal, resend_wait

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PATH: Final = "/me/payment-password"
FORM_TEMPLATE: Final = "wallet/payment_password/form.html"
FORGOT_TEMPLATE: Final = "wallet/payment_password/forgot.html"
EVENTS: Final = ("set", "changed", "reset")
FACTORS: Final = ("id_number", "card_number")
# Refusals of the new PIN itself: shown at its field.
NEW_PIN_ERRORS: Final = frozenset({"weak_payment_password", "same_as_login_password"})
# Refusals after which the SMS code was not spent (the unit rolled back): it stays typed.
CODE_KEPT: Final = frozenset(
    {"weak_payment_password", "same_as_login_password", "identity_required", "rate_limited"}
)

# Every name each template reads, with its value when a handler does not give it.
FORM_SHOWN: Final[dict[str, Any]] = {
    "mode": "set",
    "mismatch": False,
    "remaining": None,
    "current_error": False,
    "pin_error": None,
}
FORGOT_SHOWN: Final[dict[str, Any]] = {
    "step": "start",
    "sent_to": "",
    "factors": [],
    "sent": False,
    "wait": 0,
    "remaining": None,
    "mismatch": False,
    "code": "",
    "code_error": False,
    "identity": "",
    "identity_error": False,
    "pin_error": None,
}


async def _form_page(request: Request, services: Services, **shown: Any) -> Response:
    return await page(request, services, FORM_TEMPLATE, **{**FORM_SHOWN, **shown})


async def _forgot_page(request: Request, services: Services, **shown: Any) -> Response:
    return await page(request, services, FORGOT_TEMPLATE, **{**FORGOT_SHOWN, **shown})


def _pins_differ(form: Form) -> bool:
    return form["new_pin"] != form["confirm_pin"]


def _refusal_context(request: Request, error: DomainError) -> dict[str, Any]:
    """How a refusal shows: at the new PIN's field, or in the box at the top."""
    at_field = error.code in NEW_PIN_ERRORS
    return {
        "status_code": error.status,
        "error": None if at_field else refusal(request, error),
        "pin_error": password_refusal(request, error) if at_field else None,
        "remaining": error.extra.get("remaining_attempts"),
    }


@router.get(PATH)
async def payment_password_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    profile = await accounts.get_profile(services, user_id=user.user_id)
    mode = "set" if profile.payment_password_hash is None else "change"
    return await _form_page(request, services, mode=mode)


@router.post(PATH)
async def save_payment_password(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    """Set the first PIN (``mode=set``) or change it (``mode=change``, the current one given)."""
    mode = "change" if form["mode"] == "change" else "set"
    if _pins_differ(form):
        return await _form_page(request, services, status_code=422, mode=mode, mismatch=True)
    try:
        await payment_password.set_payment_password(
            services,
            user_id=user.user_id,
            new_pin=form["new_pin"],
            current_pin=form["current_pin"] if mode == "change" else None,
            actor=actor_of(request, user),
        )
    except DomainError as error:
        if error.code == "payment_password_already_set":
            mode = "change"  # set meanwhile (another tab, the app): changing is what is left
        context = _refusal_context(request, error)
        wrong_current = error.code in ("payment_password_invalid", "payment_password_locked")
        return await _form_page(
            request, services, mode=mode, current_error=wrong_current, **context
        )
    return see_other(f"{PATH}/done?event={'set' if mode == 'set' else 'changed'}")


@router.get(f"{PATH}/done")
async def done(
    request: Request, user: WebUser, services: ServicesDep, event: str = "set"
) -> Response:
    return await page(
        request,
        services,
        "wallet/payment_password/done.html",
        event=event if event in EVENTS else "set",
    )


@router.get(f"{PATH}/forgot")
async def forgot_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    start = await recovery.payment_reset_start(services, user_id=user.user_id)
    return await _forgot_page(request, services, sent_to=mask_phone(start.phone))


def _factors(form: Form) -> list[str]:
    given = form["factors"].split(",")
    return [name for name in FACTORS if name in given]


@router.get(f"{PATH}/forgot/code")
async def code_step_again() -> Response:
    """The code step is the answer to a post; reached by address, it starts over."""
    return see_other(f"{PATH}/forgot")


@router.post(f"{PATH}/forgot/code")
async def send_code(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    """Text a ``reset_payment_password`` code to the account's own phone."""
    try:
        sent = await recovery.send_payment_reset_code(
            services, caller=page_caller(request, caller), user_id=user.user_id
        )
    except DomainError as error:
        return await _forgot_page(
            request,
            services,
            status_code=error.status,
            step="verify" if form["again"] == "1" else "start",
            sent_to=form.text("sent_to"),
            factors=_factors(form),
            error=refusal(request, error),
            wait=resend_wait(error),
        )
    return await _forgot_page(
        request,
        services,
        step="verify",
        sent=True,
        sent_to=mask_phone(sent.start.phone),
        factors=list(sent.start.factors),
        wait=sent.sent.resend_after,
    )


@router.post(f"{PATH}/forgot")
async def reset(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    code = form.text("code")
    shown: dict[str, Any] = {
        "step": "verify",
        "sent_to": form.text("sent_to"),
        "factors": _factors(form),
        "identity": form.text("identity"),
    }
    if _pins_differ(form):
        return await _forgot_page(
            request, services, status_code=422, mismatch=True, code=code, **shown
        )
    try:
        await recovery.reset_own_payment_password(
            services,
            user_id=user.user_id,
            verification_code=code,
            new_pin=form["new_pin"],
            identity=form.text("identity") or None,
            client_ip=request.client.host if request.client else None,
        )
    except DomainError as error:
        if error.code == "identity_required":
            shown["factors"] = [f for f in FACTORS if f in error.extra.get("factors", [])]
        if error.code == "identity_mismatch":
            shown["identity"] = ""  # wrong, and the code it came with is spent
        return await _forgot_page(
            request,
            services,
            code=code if error.code in CODE_KEPT else "",
            code_error=error.code in CODE_ERRORS,
            identity_error=error.code in ("identity_required", "identity_mismatch"),
            **shown,
            **_refusal_context(request, error),
        )
    return see_other(f"{PATH}/done?event=reset")
