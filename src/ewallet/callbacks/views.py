"""Call-back requests and logged phone calls as the API (and other code) reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CallbackView:
    id: str
    user_id: str
    phone: str
    topic: str
    preferred_from: datetime
    preferred_to: datetime
    status: str
    outcome: str | None
    handled_by: str | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LoggedCall:
    """The ticket a phone call became, and the customer it was attached to (if known)."""

    ticket_id: str
    user_id: str | None
