"""The hosted checkout page: ``GET /checkout/{order_id}`` and the forms it posts.

Server-rendered (Jinja2, autoescaped), no script and nothing from a CDN; a strict
Content-Security-Policy allows only the page's own nonce-tagged stylesheet and form posts
to itself. The customer signs in with phone and login password through the same services
as ``POST /v1/sessions`` (a new browser gets the SMS step-up), and pays with the payment
password through the same :func:`~ewallet.payments.paying.pay_order` as ``POST
/v1/payments`` -- same checks, same order of refusals, same ledger entry.

The access token lives in an ``HttpOnly; SameSite=Strict`` cookie scoped to
``/checkout``; the pay form also carries a token derived from it (keyed digest), so a
cross-site form cannot pay even where SameSite is not honoured. A per-browser device cookie
lets a browser that passed the step-up once be trusted next time, as an app device is; the
sign-in and step-up forms carry a token derived from it, so no other site can sign a
browser in (login CSRF).
"""

from __future__ import annotations

import secrets
from typing import Any, Final
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ClockDep, EngineDep, LedgerDep, SettingsDep, get_locale
from ewallet.identity import signin
from ewallet.identity.deps import SecurityDep, current_principal
from ewallet.identity.runtime import CallerDep, RuntimeDep
from ewallet.identity.stepup import Proof
from ewallet.kit import i18n
from ewallet.kit.errors import DomainError, NotFoundError, UnauthorizedError
from ewallet.ops.maintenance import app_schedule
from ewallet.payments.links import CHECKOUT_PATH
from ewallet.payments.orders import get_order
from ewallet.payments.paying import PaymentServices, pay_order, payment_of_order
from ewallet.payments.views import OrderView
from ewallet.risk.limits import CHINA_TIME

router = APIRouter(prefix=CHECKOUT_PATH, tags=["checkout"], include_in_schema=False)

TOKEN_COOKIE: Final = "ewallet_checkout"  # noqa: S105 -- a cookie name
DEVICE_COOKIE: Final = "ewallet_checkout_device"
MAX_FORM_BYTES: Final = 4096

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("ewallet.payments", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

TEXTS: Final[dict[str, dict[str, Any]]] = {
    "zh-CN": {
        "title": "收银台",
        "sign_in_first": "请先登录钱包账户。",
        "phone": "手机号",
        "password": "登录密码",
        "sign_in": "登录",
        "step_up": "这是新的浏览器，我们已向您的手机发送验证码。",
        "code": "短信验证码",
        "confirm": "确认",
        "pin": "支付密码（6 位数字）",
        "pay": "确认付款",
        "paid": "付款成功",
        "payment_no": "付款编号",
        "expires": "订单有效期至",
        "status": {
            "paid": "该订单已支付",
            "refunded": "该订单已支付并已退款",
            "closed": "该订单已关闭",
            "expired": "该订单已过期",
        },
    },
    "en": {
        "title": "Checkout",
        "sign_in_first": "Sign in to your wallet first.",
        "phone": "Phone number",
        "password": "Login password",
        "sign_in": "Sign in",
        "step_up": "This is a new browser: we have texted a code to your phone.",
        "code": "SMS code",
        "confirm": "Confirm",
        "pin": "Payment password (6 digits)",
        "pay": "Pay",
        "paid": "Payment made",
        "payment_no": "Payment number",
        "expires": "Payable until",
        "status": {
            "paid": "This order has been paid",
            "refunded": "This order was paid and refunded",
            "closed": "This order was closed",
            "expired": "This order has expired",
        },
    },
}


def _csp(nonce: str) -> str:
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def _page(
    request: Request,
    order: OrderView,
    *,
    step: str,
    status_code: int = 200,
    error: str | None = None,
    **extra: Any,
) -> HTMLResponse:
    locale = get_locale(request)
    nonce = secrets.token_urlsafe(16)
    html = _templates.get_template("checkout.html").render(
        locale=locale,
        t=TEXTS[locale],
        order=order,
        step=step,
        error=error,
        nonce=nonce,
        base=f"{CHECKOUT_PATH}/{order.id}",
        expires_local=order.expires_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M"),
        challenge_id=extra.get("challenge_id", ""),
        csrf=extra.get("csrf", ""),
        paid_payment_id=extra.get("paid_payment_id"),
        maintenance=extra.get("maintenance", ""),
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={
            "Content-Security-Policy": _csp(nonce),
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _message(request: Request, error: DomainError) -> str:
    locale = get_locale(request)
    return f"{i18n.title(error.code, locale)}：{i18n.detail(error.code, error.detail, locale)}"


def _forbidden(request: Request) -> str:
    """A form posted without this page's token (another site's, or an expired page)."""
    locale = get_locale(request)
    return f"{i18n.title('forbidden', locale)}：{i18n.detail('forbidden', None, locale)}"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items()}


def _csrf(request: Request, token: str) -> str:
    security = request.app.state.security
    return str(security.digest(f"checkout-form:{token}"))[:32]


def _sign_in_csrf(request: Request, device_key: str) -> str:
    """The sign-in and step-up forms' token: bound to this browser's device cookie.

    Before sign-in there is no session to bind to; the device cookie (``SameSite=Strict``,
    set with the form) plays its part, so a cross-site form cannot sign the browser in to
    an account of the attacker's choosing (login CSRF)."""
    security = request.app.state.security
    return str(security.digest(f"checkout-sign-in:{device_key}"))[:32]


def _sign_in_form_ok(request: Request, form: dict[str, str]) -> bool:
    device_key = request.cookies.get(DEVICE_COOKIE)
    if not device_key or not 16 <= len(device_key) <= 64:
        return False
    return secrets.compare_digest(form.get("csrf", ""), _sign_in_csrf(request, device_key))


def _sign_in_page(
    request: Request,
    order: OrderView,
    *,
    step: str = "sign_in",
    status_code: int = 200,
    error: str | None = None,
    challenge_id: str = "",
) -> HTMLResponse:
    """The sign-in (or step-up) form with its token; sets the device cookie it is bound to."""
    device_key, new_device = _device(request)
    page = _page(
        request,
        order,
        step=step,
        status_code=status_code,
        error=error,
        challenge_id=challenge_id,
        csrf=_sign_in_csrf(request, device_key),
    )
    if new_device:
        _remember_device(page, device_key, request.url.scheme == "https")
    return page


async def _signed_in(request: Request, engine: Any, security: Any, clock: Any) -> Any:
    """The user behind the checkout cookie, through the API's own token check; or None."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"authorization"]
    headers.append((b"authorization", f"Bearer {token}".encode()))
    as_bearer = Request({**request.scope, "headers": headers})
    try:
        return await current_principal(as_bearer, engine, security, clock)
    except UnauthorizedError:
        return None


async def _maintenance_notice(request: Request, engine: Any, clock: Any) -> str | None:
    """The maintenance message to show instead of the forms while a window is in force.

    The forms' posts are refused by the maintenance guard itself (``ewallet.ops``); this
    only spares the customer typing a password into a form that cannot work now."""
    active = await app_schedule(request.app).active(engine, clock)
    if active is None:
        return None
    locale = get_locale(request)
    return active.window.message or (
        f"{i18n.title('maintenance', locale)}：{i18n.detail('maintenance', None, locale)}"
    )


async def _order(engine: Any, clock: Any, order_id: str) -> OrderView:
    return await get_order(engine, clock=clock, order_id=order_id, merchant_id=None)


@router.get("/{order_id}", response_class=HTMLResponse)
async def checkout_page(
    order_id: str, request: Request, engine: EngineDep, security: SecurityDep, clock: ClockDep
) -> Response:
    try:
        order = await _order(engine, clock, order_id)
    except NotFoundError:
        return HTMLResponse("<!doctype html><title>404</title><p>Not found</p>", status_code=404)
    if order.status == "awaiting_payment":
        notice = await _maintenance_notice(request, engine, clock)
        if notice is not None:  # no form to fill in that would only be refused
            return _page(request, order, step="maintenance", maintenance=notice)
    principal = await _signed_in(request, engine, security, clock)
    if principal is None:
        return _sign_in_page(request, order)
    paid = await payment_of_order(engine, order_id=order_id, user_id=principal.user_id)
    if paid is not None:
        return _page(request, order, step="done", paid_payment_id=paid)
    token = request.cookies[TOKEN_COOKIE]
    return _page(request, order, step="pay", csrf=_csrf(request, token))


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
    *,
    order_id: str,
    request: Request,
    rt: RuntimeDep,
    caller: CallerDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    order = await _order(engine, clock, order_id)
    form = await _form(request)
    if not _sign_in_form_ok(request, form):  # nothing checked, nothing counted
        return _sign_in_page(request, order, status_code=403, error=_forbidden(request))
    secure = request.url.scheme == "https"
    device_key, new_device = _device(request)
    try:
        tokens = await signin.sign_in_with_password(
            rt,
            caller=caller,
            phone=form.get("phone", ""),
            password=form.get("login_password", ""),
            device=signin.DeviceInfo(key=device_key, label="Checkout (browser)"),
        )
    except DomainError as error:
        if error.code == "step_up_required":
            return _sign_in_page(
                request, order, step="step_up", challenge_id=str(error.extra["challenge_id"])
            )
        return _sign_in_page(
            request, order, status_code=error.status, error=_message(request, error)
        )
    response = _signed_in_redirect(order_id, tokens.access_token, secure)
    if new_device:
        _remember_device(response, device_key, secure)
    return response


@router.post("/{order_id}/step-up", response_class=HTMLResponse)
async def step_up(
    *,
    order_id: str,
    request: Request,
    rt: RuntimeDep,
    caller: CallerDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    order = await _order(engine, clock, order_id)
    form = await _form(request)
    challenge_id = form.get("challenge_id", "")
    if not _sign_in_form_ok(request, form):
        return _sign_in_page(request, order, status_code=403, error=_forbidden(request))
    try:
        tokens = await signin.complete_sign_in(
            rt,
            caller=caller,
            challenge_id=challenge_id,
            proof=Proof(verification_code=form.get("verification_code", "")),
            device_label="Checkout (browser)",
        )
    except DomainError as error:
        return _sign_in_page(
            request,
            order,
            step="step_up",
            status_code=error.status,
            error=_message(request, error),
            challenge_id=challenge_id,
        )
    return _signed_in_redirect(order_id, tokens.access_token, request.url.scheme == "https")


@router.post("/{order_id}/pay", response_class=HTMLResponse)
async def pay(
    *,
    order_id: str,
    request: Request,
    engine: EngineDep,
    ledger: LedgerDep,
    clock: ClockDep,
    settings: SettingsDep,
    security: SecurityDep,
) -> Response:
    order = await _order(engine, clock, order_id)
    principal = await _signed_in(request, engine, security, clock)
    form = await _form(request)
    token = request.cookies.get(TOKEN_COOKIE, "")
    if principal is None or not secrets.compare_digest(form.get("csrf", ""), _csrf(request, token)):
        return _sign_in_page(request, order, status_code=401)
    services = PaymentServices(
        engine=engine, ledger=ledger, clock=clock, settings=settings, security=security
    )
    ip = request.client.host if request.client else None
    try:
        payment = await pay_order(
            services,
            user_id=principal.user_id,
            order_id=order_id,
            pin=form.get("payment_password", ""),
            actor=Actor("user", principal.user_id, ip),
        )
    except DomainError as error:
        current = await _order(engine, clock, order_id)
        return _page(
            request,
            current,
            step="pay",
            status_code=error.status,
            error=_message(request, error),
            csrf=_csrf(request, token),
        )
    paid = await _order(engine, clock, order_id)
    return _page(request, paid, step="done", status_code=201, paid_payment_id=payment.id)
