"""The payment code's format: 18 digits a cashier scans, made and checked without a table scan.

Layout (digits)::

    28 | LLLLLLLL | C | OOOOOOO
    |    |          |   one-time value: HMAC-SHA256(user secret, lookup id : step : counter),
    |    |          |   dynamically truncated to 7 digits (as in RFC 4226)
    |    |          counter: the n-th code of this user in this 60-second step (0-9)
    |    lookup id + a per-step offset (mod 10^8): finds the user's secret by index
    the wallet's prefix, so a cashier's scanner can tell our codes from other wallets'

The lookup part is *blinded*: the offset is a keyed digest of the time step under the
server's key, so two codes of one user from different minutes share no digits an onlooker
could link, while the server subtracts the offset and finds the user in one indexed read.
Forging needs the user's secret: a guess of the last 7 digits is right once in 10^7, and
a scanned code becomes useless once charged (one row per user, step and counter).

A code made in step ``s`` is accepted in steps ``s`` and ``s + 1`` (60 to 120 seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import segno

from ewallet.payments.payment_codes.errors import PaymentCodeInvalidError
from ewallet.security.crypto import KeyedDigest

PREFIX: Final = "28"
STEP_SECONDS: Final = 60
CODE_LENGTH: Final = 18
LOOKUP_SPACE: Final = 10**8
COUNTERS_PER_STEP: Final = 10
OTP_DIGITS: Final = 7
# Steps a code is accepted in, counted back from now: the current one and the one before.
ACCEPTED_STEPS: Final = 2


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def step_start(step: int) -> int:
    """The Unix time at which ``step`` begins."""
    return step * STEP_SECONDS


def _offset(blinding: KeyedDigest, step: int) -> int:
    return int(blinding(f"payment-code lookup offset:{step}"), 16) % LOOKUP_SPACE


def one_time_value(secret: bytes, *, lookup_id: int, step: int, counter: int) -> str:
    message = f"{lookup_id}:{step}:{counter}".encode()
    mac = hmac.new(secret, message, hashlib.sha256).digest()
    start = mac[-1] & 0x0F
    number = int.from_bytes(mac[start : start + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**OTP_DIGITS:0{OTP_DIGITS}d}"


def make_code(
    secret: bytes, *, lookup_id: int, step: int, counter: int, blinding: KeyedDigest
) -> str:
    if not 0 <= counter < COUNTERS_PER_STEP:
        raise ValueError("counter out of range")
    blinded = (lookup_id + _offset(blinding, step)) % LOOKUP_SPACE
    otp = one_time_value(secret, lookup_id=lookup_id, step=step, counter=counter)
    return f"{PREFIX}{blinded:08d}{counter}{otp}"


@dataclass(frozen=True, slots=True)
class CodeCandidate:
    """What a code says if it was made in ``step``: the user's lookup id and the counter;
    :meth:`matches` then checks the one-time value against that user's secret."""

    lookup_id: int
    step: int
    counter: int
    otp: str

    def matches(self, secret: bytes) -> bool:
        expected = one_time_value(
            secret, lookup_id=self.lookup_id, step=self.step, counter=self.counter
        )
        return hmac.compare_digest(expected, self.otp)


def candidates(code: str, *, now: datetime, blinding: KeyedDigest) -> list[CodeCandidate]:
    """The readings of ``code`` for each step it may have been made in (newest first).

    Raises ``payment_code_invalid`` when the code is not 18 digits with our prefix.
    """
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
        raise PaymentCodeInvalidError("a payment code is 18 digits")
    if not code.startswith(PREFIX):
        raise PaymentCodeInvalidError("this is not one of our payment codes")
    blinded, counter, otp = int(code[2:10]), int(code[10]), code[11:]
    current = time_step(now)
    return [
        CodeCandidate((blinded - _offset(blinding, step)) % LOOKUP_SPACE, step, counter, otp)
        for step in range(current, current - ACCEPTED_STEPS, -1)
    ]


def qr_png_base64(code: str, *, scale: int = 6) -> str:
    """The code as a QR image (PNG, base64) for the cashier's scanner to read off a screen.

    Error correction Q (25 %) so a cracked screen still scans; the digits are numeric, so
    the smallest QR version that fits is chosen by segno.
    """
    image = io.BytesIO()
    segno.make_qr(code, error="q").save(image, kind="png", scale=scale, border=2)
    return base64.b64encode(image.getvalue()).decode("ascii")


def qr_svg(code: str) -> str:
    """The code as a QR image in SVG, for a page to inline (same error correction as the
    PNG): no size (the page's stylesheet sizes it by its ``qr`` class), no inline style."""
    return str(
        segno.make_qr(code, error="q").svg_inline(
            scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None
        )
    )
