"""Alipay open-platform protocol, RSA2 flavour: signed requests, signed answers, async notifies.

Written from Alipay's public specification, tested against ``python-alipay-sdk``:

- *Request* signing: every parameter except ``sign`` and those with an empty value, sorted
  by name, joined as ``k=v`` with ``&`` (values raw, not URL-encoded), signed with
  SHA256withRSA (PKCS#1 v1.5) by the app's private key, base64 → ``sign``. ``sign_type``
  (``RSA2``) is part of the signed text here.
- *Answer* verification: the gateway signs the raw JSON text of ``<method>_response`` (the
  bytes exactly as sent, so we cut them out of the body instead of re-serialising).
- *Async notify* verification: every form field except ``sign`` **and** ``sign_type`` (empty
  values kept), same sort/join, verified with Alipay's public key. The notify is accepted by
  answering the plain text ``success``; anything else (``fail``) makes Alipay retry over ~25 h.

Times on the wire are Beijing time (``yyyy-MM-dd HH:mm:ss``, UTC+8, no DST); amounts are
yuan strings (``"88.88"``): both are converted here, at the edge.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.responses import PlainTextResponse

from ewallet.integrations.psp.errors import SignatureInvalidError
from ewallet.integrations.psp.notice import PaymentNotice, PaymentStatus
from ewallet.kit.money import InvalidAmountError, Money

BEIJING: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
SIGN_TYPE: Final = "RSA2"
TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
SUCCESS_CODE: Final = "10000"
CURRENCY: Final = "CNY"  # total_amount is always yuan, also for cross-border trades

STATUSES: Final[dict[str, PaymentStatus]] = {
    "WAIT_BUYER_PAY": PaymentStatus.PENDING,
    "TRADE_SUCCESS": PaymentStatus.SUCCEEDED,
    "TRADE_FINISHED": PaymentStatus.SUCCEEDED,  # paid, and the refund period is over
    "TRADE_CLOSED": PaymentStatus.CLOSED,  # unpaid and closed, or fully refunded
}
_NOTIFY_REQUIRED: Final = ("app_id", "out_trade_no", "total_amount", "trade_status", "sign")


# --- signatures ---------------------------------------------------------------------------


def request_sign_content(params: Mapping[str, str]) -> str:
    """The text an Alipay *request* is signed over: all but ``sign`` and empty values."""
    items = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
    return "&".join(f"{k}={v}" for k, v in items)


def notify_sign_content(params: Mapping[str, str]) -> str:
    """The text an async *notify* is signed over: all but ``sign`` and ``sign_type``."""
    items = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type"))
    return "&".join(f"{k}={v}" for k, v in items)


def rsa2_sign(content: str, private_key: rsa.RSAPrivateKey) -> str:
    signature = private_key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(content: str, signature: str, public_key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def sign_request(params: Mapping[str, str], private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """``params`` plus their ``sign``."""
    return {**params, "sign": rsa2_sign(request_sign_content(params), private_key)}


def verify_request(params: Mapping[str, str], public_key: rsa.RSAPublicKey) -> bool:
    """Whether a request's ``sign`` verifies (the sandbox gateway's side)."""
    signature = params.get("sign", "")
    return bool(signature) and rsa2_verify(request_sign_content(params), signature, public_key)


def sign_notify(params: Mapping[str, str], private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    """A notify form with ``sign`` and ``sign_type`` (the sandbox PSP's side)."""
    fields = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
    signature = rsa2_sign(notify_sign_content(fields), private_key)
    return {**fields, "sign": signature, "sign_type": SIGN_TYPE}


# --- requests -----------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """A Beijing wall-clock time from Alipay, as an aware UTC datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)


def yuan(amount: Money) -> str:
    if amount.currency != CURRENCY:
        raise InvalidAmountError(f"Alipay takes {CURRENCY} amounts, not {amount.currency}")
    return amount.to_decimal_string()


def build_request(
    *,
    app_id: str,
    method: str,
    biz_content: Mapping[str, Any],
    private_key: rsa.RSAPrivateKey,
    now: datetime,
    notify_url: str | None = None,
    return_url: str | None = None,
) -> dict[str, str]:
    """Signed common parameters + ``biz_content`` for one API call (POST form or GET query)."""
    params = {
        "app_id": app_id,
        "method": method,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": SIGN_TYPE,
        "timestamp": format_time(now),
        "version": "1.0",
        "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
    }
    if notify_url:
        params["notify_url"] = notify_url
    if return_url:
        params["return_url"] = return_url
    return sign_request(params, private_key)


def gateway_url(gateway: str, params: Mapping[str, str]) -> str:
    """A browser URL for a signed request (page pay): the parameters in the query."""
    return f"{gateway}{'&' if '?' in gateway else '?'}{urlencode(params)}"


def response_key(method: str) -> str:
    """``alipay.trade.precreate`` answers under ``alipay_trade_precreate_response``."""
    return method.replace(".", "_") + "_response"


def signed_response_body(
    method: str, payload: Mapping[str, Any], private_key: rsa.RSAPrivateKey
) -> str:
    """A gateway answer: the payload's exact JSON text is what gets signed (sandbox side)."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    signature = rsa2_sign(raw, private_key)
    return f'{{"{response_key(method)}":{raw},"sign":{json.dumps(signature)}}}'


def verify_response(body: str, method: str, public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """The verified ``<method>_response`` object of a gateway answer.

    Raises :class:`SignatureInvalidError` when the answer is unsigned, malformed or its
    signature does not verify (an unsigned error answer is only trusted as "it failed").
    """
    key = response_key(method)
    try:
        document = json.loads(body)
        raw, payload = _raw_member(body, key)
    except (ValueError, KeyError) as error:
        raise SignatureInvalidError(f"Alipay answer without {key}") from error
    signature = document.get("sign")
    if not isinstance(signature, str) or not rsa2_verify(raw, signature, public_key):
        raise SignatureInvalidError(f"Alipay answer to {method} does not verify")
    return payload


def _raw_member(body: str, key: str) -> tuple[str, dict[str, Any]]:
    """The exact text of the top-level object member ``key``, and its value."""
    decoder = json.JSONDecoder()
    marker = json.dumps(key)
    position = 0
    while (position := body.find(marker, position)) >= 0:
        colon = position + len(marker)
        while colon < len(body) and body[colon].isspace():
            colon += 1
        if colon < len(body) and body[colon] == ":":
            start = colon + 1
            while body[start].isspace():
                start += 1
            value, end = decoder.raw_decode(body, start)
            if isinstance(value, dict):
                return body[start:end], value
        position += len(marker)
    raise KeyError(key)


# --- notifies -----------------------------------------------------------------------------


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (a notify, a gateway POST) as a dict.

    Empty values are kept, since Alipay signs them too; no multipart parser is needed.
    """
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as error:  # percent-encoded forms are plain ASCII
        raise SignatureInvalidError("form body is not URL-encoded") from error
    return dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))


def verify_alipay_notify(
    form: Mapping[str, str],
    public_key: rsa.RSAPublicKey,
    *,
    app_id: str,
    seller_id: str | None = None,
) -> PaymentNotice:
    """Verify an async notify's RSA2 signature and read it; raise :class:`SignatureInvalidError`.

    Refused: a missing field or signature, another sign type (RSA/SHA-1 is not accepted), a
    signature that does not verify (so any changed amount, status or removed field), a notify
    for another app (or seller, when given), or a field we cannot read.
    """
    missing = [name for name in _NOTIFY_REQUIRED if not form.get(name)]
    if missing:
        raise SignatureInvalidError(f"Alipay notify without {', '.join(missing)}")
    if form.get("sign_type", SIGN_TYPE) != SIGN_TYPE:
        raise SignatureInvalidError(f"Alipay notify signed with {form['sign_type']}, not RSA2")
    if not rsa2_verify(notify_sign_content(form), form["sign"], public_key):
        raise SignatureInvalidError("Alipay notify signature does not verify")
    if form["app_id"] != app_id:
        raise SignatureInvalidError(f"Alipay notify for app {form['app_id']}, we are {app_id}")
    if seller_id is not None and form.get("seller_id") != seller_id:
        raise SignatureInvalidError("Alipay notify for another seller")
    return notice_from_trade(form, paid_at_field="gmt_payment")


def notice_from_trade(fields: Mapping[str, Any], *, paid_at_field: str) -> PaymentNotice:
    """A notice from notify fields or a ``alipay.trade.query`` answer (already verified)."""
    try:
        psp_status = str(fields["trade_status"])
        status = STATUSES[psp_status]
        amount = Money.parse(str(fields["total_amount"]), CURRENCY)
        paid_text = fields.get(paid_at_field)
        paid_at = parse_time(str(paid_text)) if paid_text else None
    except (KeyError, ValueError, InvalidAmountError) as error:
        raise SignatureInvalidError(f"Alipay trade fields cannot be read: {error}") from error
    if status is PaymentStatus.CLOSED and fields.get("refund_fee"):
        status = PaymentStatus.REFUNDED
    return PaymentNotice(
        psp="alipay",
        out_trade_no=str(fields["out_trade_no"]),
        trade_no=str(fields["trade_no"]) if fields.get("trade_no") else None,
        amount_fen=amount.minor,
        currency=amount.currency,
        status=status,
        paid_at=paid_at if status is PaymentStatus.SUCCEEDED else None,
        psp_status=psp_status,
    )


def alipay_ack(*, accepted: bool) -> PlainTextResponse:
    """The answer Alipay expects: ``success`` stops its retries; ``fail`` asks for another try.

    Answer ``success`` also for a notice already applied (a retry), and ``fail`` only when we
    could not record it (so Alipay's retry is useful). A bad signature gets ``fail`` too:
    Alipay never sends one, so whoever did gets nothing to learn from.
    """
    return PlainTextResponse("success" if accepted else "fail", status_code=200)
