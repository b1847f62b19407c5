"""WeChat Pay API v3 protocol: signed requests, signed answers, encrypted notifications.

Written from WeChat Pay's public v3 specification, tested against ``wechatpayv3``:

- *Requests* carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",
  signature="..",timestamp="..",serial_no=".."``; the signature is SHA256withRSA (PKCS#1
  v1.5, base64) by the merchant's API key over ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n``
  (URL = path and query as sent).
- *Answers and notifications* are signed by WeChat Pay's platform key over
  ``TIMESTAMP\\nNONCE\\nBODY\\n``, given in ``Wechatpay-Timestamp``/``-Nonce``/``-Signature``,
  and ``Wechatpay-Serial`` names the key. A timestamp more than 5 minutes off is refused
  (replays).
- A notification's ``resource`` is AEAD_AES_256_GCM-encrypted with the merchant's APIv3
  key (32 bytes), its ``nonce`` and ``associated_data``; ``ciphertext`` is base64 of the
  cipher text followed by the 16-byte tag.
- We acknowledge with ``204`` (no body); a refusal is a 4xx/5xx with
  ``{"code": "FAIL", "message": ...}``, and WeChat Pay retries over ~24 h.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.responses import JSONResponse, Response

from ewallet.integrations.psp.errors import SignatureInvalidError
from ewallet.integrations.psp.notice import PaymentNotice, PaymentStatus
from ewallet.kit.clock import Clock

SCHEMA: Final = "WECHATPAY2-SHA256-RSA2048"
AEAD: Final = "AEAD_AES_256_GCM"
MAX_SKEW: Final = timedelta(minutes=5)
_NONCE_ALPHABET: Final = string.ascii_uppercase + string.digits
_AUTH_PARAM: Final = re.compile(r'(\w+)="([^"]*)"')

STATUSES: Final[dict[str, PaymentStatus]] = {
    "SUCCESS": PaymentStatus.SUCCEEDED,
    "REFUND": PaymentStatus.REFUNDED,
    "NOTPAY": PaymentStatus.PENDING,
    "USERPAYING": PaymentStatus.PENDING,
    "ACCEPT": PaymentStatus.PENDING,
    "CLOSED": PaymentStatus.CLOSED,
    "REVOKED": PaymentStatus.CLOSED,
    "PAYERROR": PaymentStatus.FAILED,
}


def new_nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def rsa_sign(message: bytes, private_key: rsa.RSAPrivateKey) -> str:
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa_verify(message: bytes, signature: str, public_key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def _lines(*parts: str | bytes) -> bytes:
    """``part\\n`` for each part: the shape of every v3 signed message."""
    return b"".join((p.encode("utf-8") if isinstance(p, str) else p) + b"\n" for p in parts)


def _unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def _check_fresh(timestamp: str, now: datetime, max_skew: timedelta) -> None:
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise SignatureInvalidError("WeChat Pay timestamp is not a number") from error
    if abs(now - signed_at) > max_skew:
        raise SignatureInvalidError("WeChat Pay signature is stale (timestamp off by > 5 min)")


# --- requests (merchant → WeChat Pay) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Authorization:
    mchid: str
    serial_no: str
    nonce_str: str
    timestamp: str
    signature: str


def authorization_header(
    *,
    method: str,
    url: str,
    body: bytes,
    mchid: str,
    serial_no: str,
    private_key: rsa.RSAPrivateKey,
    now: datetime,
    nonce: str | None = None,
) -> str:
    """The ``Authorization`` value for a request to ``url`` (path + query) with ``body``."""
    nonce = nonce or new_nonce()
    timestamp = _unix(now)
    signature = rsa_sign(_lines(method.upper(), url, timestamp, nonce, body), private_key)
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def parse_authorization(header: str) -> Authorization:
    schema, _, rest = header.strip().partition(" ")
    if schema != SCHEMA:
        raise SignatureInvalidError(f"Authorization schema is not {SCHEMA}")
    params = dict(_AUTH_PARAM.findall(rest))
    try:
        return Authorization(
            mchid=params["mchid"],
            serial_no=params["serial_no"],
            nonce_str=params["nonce_str"],
            timestamp=params["timestamp"],
            signature=params["signature"],
        )
    except KeyError as error:
        raise SignatureInvalidError(f"Authorization without {error.args[0]}") from error


def verify_authorization(
    header: str,
    *,
    method: str,
    url: str,
    body: bytes,
    public_key: rsa.RSAPublicKey,
    now: datetime,
    max_skew: timedelta = MAX_SKEW,
) -> Authorization:
    """Check a request's signature (the sandbox PSP's side); the parsed header if it holds."""
    auth = parse_authorization(header)
    _check_fresh(auth.timestamp, now, max_skew)
    message = _lines(method.upper(), url, auth.timestamp, auth.nonce_str, body)
    if not rsa_verify(message, auth.signature, public_key):
        raise SignatureInvalidError("WeChat Pay request signature does not verify")
    return auth


# --- answers and notifications (WeChat Pay → merchant) ------------------------------------


def signed_headers(
    body: bytes, *, private_key: rsa.RSAPrivateKey, serial: str, now: datetime
) -> dict[str, str]:
    """``Wechatpay-*`` headers signing ``body`` (the sandbox PSP's side)."""
    nonce = new_nonce()
    timestamp = _unix(now)
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign(_lines(timestamp, nonce, body), private_key),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SCHEMA,
    }


def verify_signed_headers(
    headers: Mapping[str, str],
    body: bytes,
    public_key: rsa.RSAPublicKey,
    *,
    now: datetime,
    platform_serial: str | None = None,
    max_skew: timedelta = MAX_SKEW,
) -> None:
    """Raise :class:`SignatureInvalidError` unless ``Wechatpay-*`` headers sign ``body``."""
    lower = {name.lower(): value for name, value in headers.items()}
    try:
        timestamp = lower["wechatpay-timestamp"]
        nonce = lower["wechatpay-nonce"]
        signature = lower["wechatpay-signature"]
        serial = lower["wechatpay-serial"]
    except KeyError as error:
        raise SignatureInvalidError(f"no {error.args[0]} header") from error
    if lower.get("wechatpay-signature-type", SCHEMA) != SCHEMA:
        raise SignatureInvalidError("WeChat Pay signature type is not RSA2048/SHA-256")
    if platform_serial is not None and serial != platform_serial:
        raise SignatureInvalidError(f"signed by WeChat Pay key {serial}, we know {platform_serial}")
    _check_fresh(timestamp, now, max_skew)
    if not rsa_verify(_lines(timestamp, nonce, body), signature, public_key):
        raise SignatureInvalidError("WeChat Pay signature does not verify")


def encrypt_resource(
    plaintext: bytes, api_v3_key: str, *, associated_data: str, original_type: str
) -> dict[str, str]:
    """An encrypted notification ``resource`` (the sandbox PSP's side)."""
    nonce = new_nonce(12)
    sealed = AESGCM(_aes_key(api_v3_key)).encrypt(
        nonce.encode("ascii"), plaintext, associated_data.encode("utf-8")
    )
    return {
        "original_type": original_type,
        "algorithm": AEAD,
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def decrypt_resource(resource: Mapping[str, Any], api_v3_key: str) -> bytes:
    if resource.get("algorithm") != AEAD:
        raise SignatureInvalidError(f"resource algorithm is not {AEAD}")
    try:
        nonce = str(resource["nonce"]).encode("utf-8")
        sealed = base64.b64decode(str(resource["ciphertext"]), validate=True)
        associated = str(resource.get("associated_data") or "").encode("utf-8")
        return AESGCM(_aes_key(api_v3_key)).decrypt(nonce, sealed, associated)
    except (KeyError, binascii.Error, ValueError, InvalidTag) as error:
        raise SignatureInvalidError("WeChat Pay resource does not decrypt") from error


def _aes_key(api_v3_key: str) -> bytes:
    key = api_v3_key.encode("utf-8")
    if len(key) != 32:
        raise ValueError("the APIv3 key must be 32 bytes")
    return key


def verify_wechat_notify(
    headers: Mapping[str, str],
    body: bytes,
    platform_public_key: rsa.RSAPublicKey,
    api_v3_key: str,
    *,
    clock: Clock,
    mchid: str | None = None,
    appid: str | None = None,
    platform_serial: str | None = None,
    max_skew: timedelta = MAX_SKEW,
) -> PaymentNotice:
    """Verify a payment notification, decrypt its resource, read it.

    Raises :class:`SignatureInvalidError` for a missing or wrong signature, a stale
    timestamp, a key we do not know (``platform_serial``), a resource that does not decrypt
    (tampered, or another APIv3 key), or a transaction of another merchant or app.
    """
    verify_signed_headers(
        headers,
        body,
        platform_public_key,
        now=clock.now(),
        platform_serial=platform_serial,
        max_skew=max_skew,
    )
    try:
        envelope = json.loads(body)
        resource = envelope["resource"]
    except (ValueError, KeyError, TypeError) as error:
        raise SignatureInvalidError("WeChat Pay notification without resource") from error
    if not isinstance(resource, dict):
        raise SignatureInvalidError("WeChat Pay notification resource is not an object")
    try:
        transaction = json.loads(decrypt_resource(resource, api_v3_key))
    except ValueError as error:
        raise SignatureInvalidError("WeChat Pay resource is not JSON") from error
    if not isinstance(transaction, dict):
        raise SignatureInvalidError("WeChat Pay resource is not an object")
    return notice_from_transaction(transaction, mchid=mchid, appid=appid)


def notice_from_transaction(
    transaction: Mapping[str, Any], *, mchid: str | None = None, appid: str | None = None
) -> PaymentNotice:
    """A notice from a decrypted notification or a query answer (already verified)."""
    if mchid is not None and transaction.get("mchid") != mchid:
        raise SignatureInvalidError("WeChat Pay transaction of another merchant")
    if appid is not None and transaction.get("appid") != appid:
        raise SignatureInvalidError("WeChat Pay transaction of another app")
    try:
        psp_status = str(transaction["trade_state"])
        status = STATUSES[psp_status]
        amount = transaction["amount"]
        total = _fen(amount["total"])
        success_time = transaction.get("success_time")
        paid_at = datetime.fromisoformat(success_time).astimezone(UTC) if success_time else None
        notice = PaymentNotice(
            psp="wechat_pay",
            out_trade_no=str(transaction["out_trade_no"]),
            trade_no=str(transaction["transaction_id"])
            if transaction.get("transaction_id")
            else None,
            amount_fen=total,
            currency=str(amount.get("currency", "CNY")),
            status=status,
            paid_at=paid_at if status is PaymentStatus.SUCCEEDED else None,
            psp_status=psp_status,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SignatureInvalidError(f"WeChat Pay transaction cannot be read: {error}") from error
    return notice


def _fen(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"amount.total {value!r}")
    return value


def wechat_ack(*, accepted: bool, status_code: int = 500, message: str = "") -> Response:
    """The answer WeChat Pay expects: ``204`` accepts; 4xx/5xx + ``{"code":"FAIL"}`` retries.

    Accept a notice already applied (a retry) too. Refuse with 401 for a signature that
    does not verify, and with 500 when we could not record it (WeChat Pay will try again).
    """
    if accepted:
        return Response(status_code=204)
    return JSONResponse({"code": "FAIL", "message": message or "rejected"}, status_code=status_code)
