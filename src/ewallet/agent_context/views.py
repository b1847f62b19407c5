"""One customer as a support agent sees them (masked by role), as other code reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.callbacks.views import CallbackView
from ewallet.chat.views import ChatView
from ewallet.history.views import HistoryEntry


@dataclass(frozen=True, slots=True)
class TicketBrief:
    id: str
    reference: str
    subject: str
    channel: str
    category: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerContext:
    user_id: str
    status: str
    tier: int
    phone: str
    phone_masked: bool
    real_name: str | None
    id_number: str | None
    identity_verified: bool
    frozen_at: datetime | None
    frozen_by: str | None
    frozen_reason: str | None
    created_at: datetime
    transactions: list[HistoryEntry]
    tickets: list[TicketBrief]
    chats: list[ChatView]
    callbacks: list[CallbackView]
