"""What a data copy looks like to its owner, and the data it holds (before rendering)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DataCopyView:
    id: str
    status: str  # building, ready, failed (models.account_closure.DataCopyStatus)
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Download:
    content: bytes
    media_type: str
    filename: str


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Every section of the copy, as JSON-ready values (times as RFC 3339 strings)."""

    generated_at: str
    sections: dict[str, Any]
