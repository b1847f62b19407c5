"""The checkout URL of an order, which is also its QR payload, and reading one back.

One string serves both ways of paying a QR code: a phone camera opens it as the hosted
checkout page, and the wallet app recognises the ``/checkout/<order id>`` path and pays in
app (``POST /v1/payments {qr_payload}``). Only the order id is taken from a payload; the
order itself (merchant, amount) always comes from the database, never from the string.
"""

from __future__ import annotations

import re
from typing import Final

from ewallet.config import Settings
from ewallet.kit.errors import ValidationFailedError

CHECKOUT_PATH: Final = "/checkout"
# A merchant's payment link (payments/payment_links/): opening it makes an order, then the
# checkout page above pays it. The token is the link's unguessable part.
PAYMENT_LINK_PATH: Final = "/l"
_ORDER_IN_PAYLOAD: Final = re.compile(r"/checkout/(?P<order_id>ord_[0-9a-z]{26})/?$")
_ORDER_ID: Final = re.compile(r"ord_[0-9a-z]{26}")
MAX_PAYLOAD_LENGTH: Final = 600


def public_base_url(settings: Settings) -> str:
    base = (
        settings.public_url or settings.psp_public_url or f"http://{settings.host}:{settings.port}"
    )
    return base.rstrip("/")


def checkout_url(settings: Settings, order_id: str) -> str:
    return f"{public_base_url(settings)}{CHECKOUT_PATH}/{order_id}"


def payment_link_url(settings: Settings, token: str) -> str:
    """The payment link's URL, which is also its QR payload."""
    return f"{public_base_url(settings)}{PAYMENT_LINK_PATH}/{token}"


def order_id_from_payload(payload: str) -> str:
    """The order a QR payload names; ``validation_error`` when it names none."""
    match = _ORDER_IN_PAYLOAD.search(payload.split("?", 1)[0].split("#", 1)[0])
    if len(payload) > MAX_PAYLOAD_LENGTH or match is None:
        raise ValidationFailedError("qr_payload does not name a wallet order")
    return match.group("order_id")


def order_id_from_text(text: str) -> str:
    """The order named by what a person pasted or a link carried: a bare order id, or a
    checkout URL / QR payload (:func:`order_id_from_payload`); ``validation_error`` else."""
    text = text.strip()
    if _ORDER_ID.fullmatch(text):
        return text
    return order_id_from_payload(text)
