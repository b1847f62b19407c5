"""The hosted checkout page: ``GET /checkout/{order_id}`` and the forms it posts.

Rendered by :mod:`.page`. The customer signs in with phone and login password through the
same use cases as ``POST /v1/sessions`` (a new browser gets the SMS step-up), and pays with
the payment password through the same :func:`~ewallet.payments.service.pay_order` as
``POST /v1/payments`` -- same checks, same order of refusals, same ledger entry.

The access token lives in an ``HttpOnly; SameSite=Strict`` cookie scoped to
``/checkout``; the pay form also carries a token derived from it (keyed digest), so a
cross-site form cannot pay even where SameSite is not honoured. A per-browser device cookie
lets a browser that passed the step-up once be trusted next time, as an app device is; the
sign-in and step-up forms carry a token derived from it, so no other site can sign a
browser in (login CSRF).

A payment risk control challenges (``step_up_required``) shows the pay form again with the
code field of the challenge (the texted code, or the authenticator's where the customer has
one) above the PIN: the post proves it (``POST /v1/me/step-up``'s use case) and pays with
its ``challenge_id``, once (docs/security.md, "Step-up for a challenged payment"). A
payment risk control holds for review answers ``202`` with "under review, expected by
<time>" (docs/risk-review.md); the order then reads as under review until decided.
"""

from __future__ import annotations

import secrets
from typing import Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ServicesDep, get_locale
from ewallet.identity.deps import Principal, current_principal
from ewallet.identity.runtime import CallerDep, RuntimeDep
from ewallet.identity.signin import service as signin
from ewallet.identity.stepup.service import complete_action_challenge
from ewallet.identity.stepup.views import Proof
from ewallet.kit import i18n
from ewallet.kit.errors import DomainError, NotFoundError, UnauthorizedError
from ewallet.models.payments import OrderStatus, PaymentStatus
from ewallet.ops.service import current_maintenance
from ewallet.payments import service as payments
from ewallet.payments.checkout.page import forbidden, message, render
from ewallet.payments.links import CHECKOUT_PATH
from ewallet.payments.orders import service as orders
from ewallet.payments.views import OrderView
from ewallet.services import Services

router = APIRouter(prefix=CHECKOUT_PATH, tags=["checkout"], include_in_schema=False)

TOKEN_COOKIE: Final = "ewallet_checkout"  # noqa: S105 -- a cookie name
DEVICE_COOKIE: Final = "ewallet_checkout_device"
MAX_FORM_BYTES: Final = 4096
# Refusals after which a risk challenge cannot be proved any more: paying asks a new one.
_CHALLENGE_OVER: Final = frozenset({"too_many_attempts", "verification_code_expired"})


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items()}


def _csrf(services: Services, token: str) -> str:
    return str(services.security.digest(f"checkout-form:{token}"))[:32]


def _sign_in_csrf(services: Services, device_key: str) -> str:
    """The sign-in and step-up forms' token: bound to this browser's device cookie.

    Before sign-in there is no session to bind to; the device cookie (``SameSite=Strict``,
    set with the form) plays its part, so a cross-site form cannot sign the browser in to
    an account of the attacker's choosing (login CSRF)."""
    return str(services.security.digest(f"checkout-sign-in:{device_key}"))[:32]


def _sign_in_form_ok(request: Request, services: Services, form: dict[str, str]) -> bool:
    device_key = request.cookies.get(DEVICE_COOKIE)
    if not device_key or not 16 <= len(device_key) <= 64:
        return False
    return secrets.compare_digest(form.get("csrf", ""), _sign_in_csrf(services, device_key))


def _sign_in_page(
    request: Request,
    services: Services,
    order: OrderView,
    *,
    step: str = "sign_in",
    status_code: int = 200,
    error: str | None = None,
    challenge_id: str = "",
) -> HTMLResponse:
    """The sign-in (or step-up) form with its token; sets the device cookie it is bound to."""
    device_key, new_device = _device(request)
    page = render(
        request,
        order,
        step=step,
        status_code=status_code,
        error=error,
        challenge_id=challenge_id,
        csrf=_sign_in_csrf(services, device_key),
    )
    if new_device:
        _remember_device(page, device_key, request.url.scheme == "https")
    return page


async def _signed_in(request: Request, services: Services) -> Principal | None:
    """The user behind the checkout cookie, through the API's own token check; or None."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"authorization"]
    headers.append((b"authorization", f"Bearer {token}".encode()))
    as_bearer = Request({**request.scope, "headers": headers})
    try:
        return await current_principal(
            as_bearer, services.engine, services.security, services.clock
        )
    except UnauthorizedError:
        return None


async def _maintenance_notice(request: Request, services: Services) -> str | None:
    """The maintenance message to show instead of the forms while a window is in force.

    The forms' posts are refused by the maintenance guard itself (``ewallet.ops``); this
    only spares the customer typing a password into a form that cannot work now."""
    active = await current_maintenance(services)
    if active is None:
        return None
    locale = get_locale(request)
    return active.window.message or (
        f"{i18n.title('maintenance', locale)}：{i18n.detail('maintenance', None, locale)}"
    )


async def _order(services: Services, order_id: str) -> OrderView:
    return await orders.get_order(services, None, order_id=order_id)


@router.get("/{order_id}", response_class=HTMLResponse)
async def checkout_page(order_id: str, request: Request, services: ServicesDep) -> Response:
    try:
        order = await _order(services, order_id)
    except NotFoundError:
        return HTMLResponse("<!doctype html><title>404</title><p>Not found</p>", status_code=404)
    if order.status == OrderStatus.AWAITING_PAYMENT:
        notice = await _maintenance_notice(request, services)
        if notice is not None:  # no form to fill in that would only be refused
            return render(request, order, step="maintenance", maintenance=notice)
    principal = await _signed_in(request, services)
    if principal is None:
        return _sign_in_page(request, services, order)
    paid = await payments.payment_of_order(services, principal.user_id, order_id=order_id)
    if paid is not None:
        return render(request, order, step="done", paid_payment_id=paid)
    token = request.cookies[TOKEN_COOKIE]
    return render(request, order, step="pay", csrf=_csrf(services, token))


def _signed_in_redirect(order_id: str, access_token: str, secure: bool) -> Response:
    response = RedirectResponse(f"{CHECKOUT_PATH}/{order_id}", status_code=303)
    response.set_cookie(
        TOKEN_COOKIE,
        access_token,
        httponly=True,
        samesite="strict",
        secure=secure,
        path=CHECKOUT_PATH,
    )
    return response


def _device(request: Request) -> tuple[str, bool]:
    """This browser's device key, and whether it is new (then it is set as a cookie)."""
    existing = request.cookies.get(DEVICE_COOKIE)
    if existing and 16 <= len(existing) <= 64:
        return existing, False
    return secrets.token_urlsafe(24), True


def _remember_device(response: Response, key: str, secure: bool) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        key,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=secure,
        path=CHECKOUT_PATH,
    )


@router.post("/{order_id}/sign-in", response_class=HTMLResponse)
async def sign_in(
    order_id: str, request: Request, rt: RuntimeDep, caller: CallerDep, services: ServicesDep
) -> Response:
    order = await _order(services, order_id)
    form = await _form(request)
    if not _sign_in_form_ok(request, services, form):  # nothing checked, nothing counted
        return _sign_in_page(request, services, order, status_code=403, error=forbidden(request))
    secure = request.url.scheme == "https"
    device_key, new_device = _device(request)
    try:
        tokens = await signin.sign_in_with_password(
            services,
            caller=caller,
            pacing=rt,
            phone=form.get("phone", ""),
            password=form.get("login_password", ""),
            device=signin.DeviceInfo(key=device_key, label="Checkout (browser)"),
        )
    except DomainError as error:
        if error.code == "step_up_required":
            return _sign_in_page(
                request,
                services,
                order,
                step="step_up",
                challenge_id=str(error.extra["challenge_id"]),
            )
        return _sign_in_page(
            request, services, order, status_code=error.status, error=message(request, error)
        )
    response = _signed_in_redirect(order_id, tokens.access_token, secure)
    if new_device:
        _remember_device(response, device_key, secure)
    return response


@router.post("/{order_id}/step-up", response_class=HTMLResponse)
async def step_up(
    order_id: str, request: Request, caller: CallerDep, services: ServicesDep
) -> Response:
    order = await _order(services, order_id)
    form = await _form(request)
    challenge_id = form.get("challenge_id", "")
    if not _sign_in_form_ok(request, services, form):
        return _sign_in_page(request, services, order, status_code=403, error=forbidden(request))
    try:
        tokens = await signin.complete_sign_in(
            services,
            caller=caller,
            challenge_id=challenge_id,
            proof=Proof(verification_code=form.get("verification_code", "")),
            device_label="Checkout (browser)",
        )
    except DomainError as error:
        return _sign_in_page(
            request,
            services,
            order,
            step="step_up",
            status_code=error.status,
            error=message(request, error),
            challenge_id=challenge_id,
        )
    return _signed_in_redirect(order_id, tokens.access_token, request.url.scheme == "https")


@router.post("/{order_id}/pay", response_class=HTMLResponse)
async def pay(
    order_id: str, request: Request, services: ServicesDep, caller: CallerDep
) -> Response:
    order = await _order(services, order_id)
    principal = await _signed_in(request, services)
    form = await _form(request)
    token = request.cookies.get(TOKEN_COOKIE, "")
    if principal is None or not secrets.compare_digest(
        form.get("csrf", ""), _csrf(services, token)
    ):
        return _sign_in_page(request, services, order, status_code=401)
    ip = request.client.host if request.client else None
    challenge_id = form.get("challenge_id", "")[:64] or None
    totp = form.get("method") == "totp"
    try:
        if challenge_id is not None:
            code = form.get("code", "")
            await complete_action_challenge(
                services,
                caller=caller,
                user_id=principal.user_id,
                challenge_id=challenge_id,
                proof=Proof(totp_code=code) if totp else Proof(verification_code=code),
            )
        payment = await payments.pay_order(
            services,
            Actor("user", principal.user_id, ip),
            user_id=principal.user_id,
            order_id=order_id,
            pin=form.get("payment_password", ""),
            caller=caller,
            device_id=principal.device_id,
            challenge_id=challenge_id,
        )
    except DomainError as error:
        current = await _order(services, order_id)
        fresh = error.code == "step_up_required" and "challenge_id" in error.extra
        # A wrong code keeps the challenge (its attempts are counted); a spent one does not.
        kept = challenge_id if error.code not in _CHALLENGE_OVER else None
        return render(
            request,
            current,
            step="pay",
            status_code=error.status,
            error=None if fresh else message(request, error),
            csrf=_csrf(services, token),
            challenge_id=str(error.extra["challenge_id"]) if fresh else (kept or ""),
            totp="totp" in error.extra.get("methods", []) if fresh else totp,
        )
    paid = await _order(services, order_id)
    if payment.status == PaymentStatus.UNDER_REVIEW:  # held for a risk officer: not an error
        due = payment.review_due_at or services.clock.now()
        return render(request, paid, step="held", status_code=202, held_until=due)
    return render(request, paid, step="done", status_code=201, paid_payment_id=payment.id)
