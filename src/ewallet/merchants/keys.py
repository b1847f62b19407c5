"""Merchant API keys and webhook secrets: made here, never stored in clear.

A key reads ``mk_<key_id>_<secret>``. ``key_id`` (16 hex characters) is public enough to
index the row; the stored proof is a keyed digest (HMAC-SHA256 under a key derived from
the secret key) of the whole key, so a stolen database does not yield working keys and a
wrong key costs one indexed lookup and a constant-time comparison.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from ewallet.security.crypto import KeyedDigest

KEY_PREFIX: Final = "mk_"
WEBHOOK_SECRET_PREFIX: Final = "whsec_"  # noqa: S105 -- a prefix, not a secret
_KEY_RE: Final = re.compile(r"^mk_(?P<key_id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A fresh API key: ``plain`` is shown once, ``key_id`` and ``digest`` are stored."""

    key_id: str
    digest: str
    plain: str


def issue_api_key(digest: KeyedDigest) -> IssuedKey:
    key_id = secrets.token_hex(8)
    plain = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return IssuedKey(key_id=key_id, digest=digest(plain), plain=plain)


def key_id_of(api_key: str) -> str | None:
    """The lookup part of a well-formed key, else None (then no query is made)."""
    match = _KEY_RE.fullmatch(api_key)
    return match.group("key_id") if match else None


def key_matches(digest: KeyedDigest, api_key: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(api_key), stored_digest)


def new_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
