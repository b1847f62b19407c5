"""What a real-name verification answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    real_name_masked: str
    id_number_masked: str
    tier: int
    verified_at: datetime
