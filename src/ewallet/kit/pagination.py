"""Opaque cursors for ``?limit=&cursor=`` lists (API.md: newest first, ``next_cursor``)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

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


class Dated(Protocol):
    """A row of a newest-first list: ordered by ``created_at``, then ``id``."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


D = TypeVar("D", bound=Dated)


def created_position(cursor: str) -> tuple[datetime, str]:
    """The ``(created_at, id)`` after which a newest-first list's next page starts."""
    position = decode_cursor(cursor)
    at, row_id = position.get("at"), position.get("id")
    if not isinstance(at, str) or not isinstance(row_id, str):
        raise ValidationFailedError("malformed cursor")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationFailedError("malformed cursor") from None
    if moment.tzinfo is None:
        raise ValidationFailedError("malformed cursor")
    return moment, row_id


def newest_first_page(found: Sequence[D], limit: int) -> Page[D]:
    """The first ``limit`` of ``found`` (read with ``limit + 1``), and the cursor after them
    if there were more."""
    items = list(found[:limit])
    next_cursor = None
    if len(found) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"at": last.created_at.isoformat(), "id": last.id})
    return Page(items, next_cursor)
