"""Opaque cursors for ``?limit=&cursor=`` lists (API.md: newest first, ``next_cursor``)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ewallet.kit.errors import ValidationFailedError

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailedError("malformed cursor") from None
    if not isinstance(value, dict):
        raise ValidationFailedError("malformed cursor")
    return value


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailedError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
