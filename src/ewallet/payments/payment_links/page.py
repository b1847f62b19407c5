"""The payment link's page: server-rendered (Jinja2, autoescaped), no script and nothing
from a CDN, under the same strict Content-Security-Policy as the checkout page. It shows
the merchant, the subject and the amount (or a field for it) and posts to itself; the
order it makes is paid on the checkout page. Presentation only: no database, no use case."""

from __future__ import annotations

import secrets
from typing import Any, Final

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from ewallet.http.deps import get_locale
from ewallet.kit import i18n
from ewallet.kit.errors import DomainError
from ewallet.payments.links import PAYMENT_LINK_PATH
from ewallet.payments.payment_links.views import PaymentLinkView

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("ewallet.payments.payment_links", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

TEXTS: Final[dict[str, dict[str, Any]]] = {
    "zh-CN": {
        "title": "付款",
        "amount": "付款金额（元）",
        "continue": "去付款",
        "open_hint": "请输入商家告诉您的金额。",
        "status": {
            "disabled": "该收款链接已停用",
            "expired": "该收款链接已过期",
            "used_up": "该收款链接已达到使用次数上限",
        },
        "ask": "请联系商家获取新的收款链接或二维码。",
    },
    "en": {
        "title": "Pay",
        "amount": "Amount (yuan)",
        "continue": "Continue to pay",
        "open_hint": "Enter the amount the merchant asked for.",
        "status": {
            "disabled": "This payment link has been disabled",
            "expired": "This payment link has expired",
            "used_up": "This payment link has been used as many times as it may",
        },
        "ask": "Ask the merchant for a new payment link or QR code.",
    },
}


def _csp(nonce: str) -> str:
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def _message(locale: i18n.Locale, error: DomainError | None) -> str | None:
    if error is None or error.code == "payment_link_unavailable":
        return None  # the link's own status text says it
    return i18n.title_and_detail(error.code, error.detail, locale)


def render(
    request: Request,
    link: PaymentLinkView,
    *,
    status_code: int = 200,
    error: DomainError | None = None,
    typed: str = "",
) -> HTMLResponse:
    locale = get_locale(request)
    nonce = secrets.token_urlsafe(16)
    html = _templates.get_template("payment_link.html").render(
        locale=locale,
        t=TEXTS[locale],
        link=link,
        action=f"{PAYMENT_LINK_PATH}/{link.token}",
        error=_message(locale, error),
        typed=typed,
        nonce=nonce,
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
