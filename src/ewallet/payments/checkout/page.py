"""The checkout page's HTML: server-rendered (Jinja2, autoescaped), no script and nothing
from a CDN; a strict Content-Security-Policy allows only the page's own nonce-tagged
stylesheet and form posts to itself. Presentation only: no database, no use case."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Final

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from ewallet.http.deps import get_locale
from ewallet.kit import i18n
from ewallet.kit.errors import DomainError
from ewallet.payments.links import CHECKOUT_PATH
from ewallet.payments.views import OrderView
from ewallet.risk.limits import CHINA_TIME

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("ewallet.payments.checkout", "templates"),
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
        "in_wallet": "已登录网页钱包？无需再次登录，直接在钱包中支付",
        "step_up": "这是新的浏览器，我们已向您的手机发送验证码。",
        "code": "短信验证码",
        "confirm": "确认",
        "pin": "支付密码（6 位数字）",
        "pay": "确认付款",
        "risk_step_up": "为保障资金安全，这笔付款需要再验证一次：请输入发送到您手机的短信验证码。",
        "risk_step_up_totp": "为保障资金安全，这笔付款需要再验证一次："
        "请输入身份验证器显示的验证码。",
        "totp_code": "身份验证器验证码",
        "paid": "付款成功",
        "payment_no": "付款编号",
        "expires": "订单有效期至",
        "held": "付款审核中：为保障资金安全，这笔付款正在进行安全审核，预计 {due} 前完成。"
        "审核期间该笔资金已在您的钱包中冻结，商户尚未收到。",
        "status": {
            "under_review": "该订单的付款正在进行安全审核",
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
        "in_wallet": "Signed in to the web wallet? Pay there without signing in again",
        "step_up": "This is a new browser: we have texted a code to your phone.",
        "code": "SMS code",
        "confirm": "Confirm",
        "pin": "Payment password (6 digits)",
        "pay": "Pay",
        "risk_step_up": "For your safety this payment needs one more check: enter the code "
        "we texted to your phone.",
        "risk_step_up_totp": "For your safety this payment needs one more check: enter the "
        "code your authenticator app shows.",
        "totp_code": "Authenticator code",
        "paid": "Payment made",
        "payment_no": "Payment number",
        "expires": "Payable until",
        "held": "Payment under review: for your safety risk control is reviewing this "
        "payment, expected by {due}. Until then the amount is held in your wallet and the "
        "merchant has not received it.",
        "status": {
            "under_review": "This order's payment is under a security review",
            "paid": "This order has been paid",
            "refunded": "This order was paid and refunded",
            "closed": "This order was closed",
            "expired": "This order has expired",
        },
    },
}


# The web wallet's page for paying an order: a browser signed in to the wallet pays there
# (its session cookie belongs to the web layer, which this page does not read).
WALLET_PAY_ORDER: Final = "/pay/order"


def _csp(nonce: str) -> str:
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def render(
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
        wallet_url=f"{WALLET_PAY_ORDER}?order={order.id}",
        expires_local=order.expires_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M"),
        challenge_id=extra.get("challenge_id", ""),
        totp=bool(extra.get("totp")),
        csrf=extra.get("csrf", ""),
        paid_payment_id=extra.get("paid_payment_id"),
        held_until=_local(extra.get("held_until")),
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


def _local(moment: datetime | None) -> str:
    """A time as the page shows it (China time, to the minute); "" for none."""
    return "" if moment is None else moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def message(request: Request, error: DomainError) -> str:
    locale = get_locale(request)
    return i18n.title_and_detail(error.code, error.detail, locale)


def forbidden(request: Request) -> str:
    """A form posted without this page's token (another site's, or an expired page)."""
    locale = get_locale(request)
    return f"{i18n.title('forbidden', locale)}：{i18n.detail('forbidden', None, locale)}"
