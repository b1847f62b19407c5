"""A notice as the signed-in user reads it, rendered in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: str
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool
    security: bool
