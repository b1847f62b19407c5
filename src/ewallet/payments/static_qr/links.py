"""The URL a static QR code holds: the wallet's pay page for its token.

A phone's camera opens it in the browser (the web wallet's ``/pay/qr/<token>``); the app
recognises the path and pays in app (``POST /v1/payments/static-qr``). Only the token is
taken from it: the merchant, the store and any fixed amount always come from the database.
"""

from __future__ import annotations

import re
from typing import Final

from ewallet.config import Settings
from ewallet.payments.links import public_base_url

PAY_PATH: Final = "/pay/qr"
CODE_SHAPE: Final = r"[A-Za-z0-9_-]{20,64}"
_TOKEN: Final = re.compile(CODE_SHAPE)


def static_qr_url(settings: Settings, token: str) -> str:
    return f"{public_base_url(settings)}{PAY_PATH}/{token}"


def looks_like_token(text: str) -> bool:
    """Cheap shape check before any read (a token is url-safe base64, 20-64 chars)."""
    return _TOKEN.fullmatch(text) is not None
