"""Field encryption (AES-256-GCM) and keyed digests, with keys derived from the secret key.

Each purpose gets its own key through HKDF, so a digest key can never decrypt a field and
rotating one purpose does not touch the others. Ciphertexts carry a version prefix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def derive_key(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )


class FieldCipher:
    """Encrypts short strings (ID numbers, names, TOTP secrets) for storage."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, *, context: str = "") -> str:
        version, _, body = token.partition(":")
        if version != _VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(body.encode())
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()


class KeyedDigest:
    """HMAC-SHA256 fingerprints: equal inputs match, the input cannot be recovered."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()


def sha256_hex(value: str) -> str:
    """Unkeyed digest, for high-entropy values only (random tokens and codes' lookups)."""
    return hashlib.sha256(value.encode()).hexdigest()
