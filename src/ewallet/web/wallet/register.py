"""Opening a wallet in a browser: ``/register`` (phone, SMS code, login password) and the
welcome page that asks for a payment password next.

The same use cases as ``POST /v1/verification-codes`` (purpose ``register``) and
``POST /v1/users``: the code's rate limits (an early "send again" is refused with the wait
left, so the countdown holds with JavaScript off too), the password policy checked before
the code is spent, and a taken phone answered only to whoever proved they hold it. The
account's first session is an ordinary row of the sessions table, its browser the
account's first trusted device, as an app's would be.

The helpers here (the refusal of a code request, the wait it carries) serve the other
"getting in" pages too: :mod:`ewallet.web.wallet.recovery`, :mod:`.payment_password`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.accounts import service as accounts
from ewallet.identity.codes import service as codes
from ewallet.identity.runtime import Caller, CallerDep
from ewallet.identity.sessions import service as sessions
from ewallet.identity.signin.service import DeviceInfo
from ewallet.kit import i18n as kit_i18n
from ewallet.kit.errors import DomainError
from ewallet.models.identity import CodePurpose
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, web_principal
from ewallet.web.kit.cookies import device_key_from, new_device_key
from ewallet.web.kit.forms import Form, PostedForm
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.wallet.signin import DEVICE_LABEL, signed_in_response

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TEMPLATE: Final = "wallet/register/register.html"
WELCOME: Final = "/register/welcome"
# Refusals that concern the code itself: the code field is emptied, the password too.
CODE_ERRORS: Final = frozenset(
    {"verification_code_invalid", "verification_code_expired", "too_many_attempts"}
)


# Every name the template reads, with its value when a handler does not give it.
SHOWN: Final[dict[str, Any]] = {
    "step": "phone",
    "phone": "",
    "wait": 0,
    "remaining": None,
    "sent": False,
    "taken": False,
    "code": "",
    "code_error": False,
    "password_error": None,
}


async def _page(
    request: Request, services: Services, status_code: int = 200, **shown: Any
) -> Response:
    return await page(request, services, TEMPLATE, status_code=status_code, **{**SHOWN, **shown})


def page_caller(request: Request, caller: Caller) -> Caller:
    """The caller in the page's language (the ``lang`` cookie wins over Accept-Language),
    so a code's SMS is written in the language the person reads the page in."""
    return dataclasses.replace(caller, locale=locale_of(request))


def resend_wait(error: DomainError) -> int:
    """Seconds until another code may be asked for, when ``error`` is a code request's
    ``rate_limited``; 0 otherwise."""
    if error.code != "rate_limited":
        return 0
    return int(error.extra.get("retry_after") or 0)


def password_refusal(request: Request, error: DomainError) -> dict[str, Any]:
    """A ``weak_password`` / ``weak_payment_password`` refusal, shown at its field: the
    title in the reader's language and the reasons (the template words each one)."""
    return {
        "title": kit_i18n.title(error.code, locale_of(request)),
        "reasons": [str(reason) for reason in error.extra.get("reasons", [])],
    }


@router.get("/register")
async def register_page(request: Request, services: ServicesDep) -> Response:
    if await web_principal(request, services) is not None:
        return see_other("/")
    return await _page(request, services)


@router.get("/register/code")
async def code_step_again() -> Response:
    """The code step is the answer to a post; reached by address, it starts over."""
    return see_other("/register")


@router.post("/register/code")
async def send_code(
    request: Request, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    """Text a ``register`` code (first time, or "send again" from the code step)."""
    return await code_step(
        request,
        form,
        services,
        caller,
        purpose=CodePurpose.REGISTER,
        template=TEMPLATE,
        defaults=SHOWN,
    )


async def code_step(
    request: Request,
    form: Form,
    services: Services,
    caller: Caller,
    *,
    purpose: CodePurpose,
    template: str,
    defaults: dict[str, Any],
) -> Response:
    """Text a code for ``purpose`` to the form's phone and show the code step of
    ``template`` with its ``defaults`` (registration's and the login-password reset's
    first step): a refusal
    keeps the phone step, or the code step when it was a "send again"."""
    phone = form.text("phone")
    again = form["again"] == "1"

    async def shown(status_code: int = 200, **names: Any) -> Response:
        return await page(
            request, services, template, status_code=status_code, **{**defaults, **names}
        )

    try:
        sent = await codes.request_code(
            services, caller=page_caller(request, caller), phone=phone, purpose=purpose
        )
    except DomainError as error:
        return await shown(
            status_code=error.status,
            step="code" if again and error.code != "invalid_phone" else "phone",
            phone=phone,
            error=refusal(request, error),
            wait=resend_wait(error),
        )
    return await shown(step="code", phone=phone, sent=True, wait=sent.resend_after)


@router.post("/register")
async def register(
    request: Request, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    phone = form.text("phone")
    code = form.text("code")
    device_key = device_key_from(request, services) or new_device_key()
    try:
        registered = await accounts.register(
            services,
            caller=page_caller(request, caller),
            phone=phone,
            verification_code=code,
            login_password=form["password"],
            locale=locale_of(request),
            device=DeviceInfo(key=device_key, label=DEVICE_LABEL),
        )
    except DomainError as error:
        weak = error.code == "weak_password"
        return await _page(
            request,
            services,
            status_code=error.status,
            step="phone" if error.code == "invalid_phone" else "code",
            phone=phone,
            # The password's policy is checked before the code is spent: keep the code.
            code=code if weak else "",
            error=None if weak else refusal(request, error),
            remaining=error.extra.get("remaining_attempts"),
            taken=error.code == "phone_already_registered",
            password_error=password_refusal(request, error) if weak else None,
            code_error=error.code in CODE_ERRORS,
        )
    session_id = sessions.session_of(services, registered.tokens)
    return signed_in_response(services, WELCOME, session_id, device_key)


@router.get(WELCOME)
async def welcome(request: Request, user: WebUser, services: ServicesDep) -> Response:
    """The account is open: the payment password is what the next step asks for."""
    return await page(request, services, "wallet/register/welcome.html")
