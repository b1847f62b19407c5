"""Each user's payment-code secret at rest: 32 random bytes, encrypted with the field cipher
and bound to the user id (a row copied to another user does not decrypt)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from ewallet.security.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """A ``payment_code_secrets`` row as stored."""

    user_id: str
    lookup_id: int
    secret_encrypted: str
    freeze_event_id: int


@dataclass(frozen=True, slots=True)
class UserSecret:
    user_id: str
    lookup_id: int
    secret: bytes
    freeze_event_id: int
    sealed: str  # the stored (encrypted) form: equal again means the row is unchanged


def _context(user_id: str) -> str:
    return f"payment-code secret:{user_id}"


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def seal(cipher: FieldCipher, user_id: str, secret: bytes) -> str:
    return cipher.encrypt(base64.b64encode(secret).decode("ascii"), context=_context(user_id))


def opened(cipher: FieldCipher, row: SealedSecret) -> UserSecret:
    secret = base64.b64decode(cipher.decrypt(row.secret_encrypted, context=_context(row.user_id)))
    return UserSecret(row.user_id, row.lookup_id, secret, row.freeze_event_id, row.secret_encrypted)
