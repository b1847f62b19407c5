"""TOTP codes (RFC 6238, 30 s steps, ±1 step) and recovery codes: pure computations."""

from __future__ import annotations

import hmac
import secrets
from typing import Final

import pyotp

from ewallet.security.crypto import KeyedDigest

STEP_SECONDS: Final = 30
WINDOW: Final = 1  # steps either side of now
_RECOVERY_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford: no i, l, o, u


def matching_step(secret: str, code: str, now_seconds: int) -> int | None:
    """The time step whose code equals ``code`` within the window, newest first."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = now_seconds // STEP_SECONDS
    for step in (current + 1, current, current - 1)[: 2 * WINDOW + 1]:
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def recovery_code_hash(digest: KeyedDigest, *, user_id: str, code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return digest(f"totp-recovery:{user_id}:{normalized}")
