"""What other code reads of a money request and a split bill: parties masked, status as of now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.kit.money import Money
from ewallet.models.money_requests import MoneyRequestStatus
from ewallet.transfers.views import Party


@dataclass(frozen=True, slots=True)
class MoneyRequestView:
    id: str
    requester: Party
    payer: Party
    amount: Money
    note: str | None
    status: str  # MoneyRequestStatus as of the read: an open request past expires_at is expired
    split_id: str | None
    transfer_id: str | None  # the transfer that paid it
    expires_at: datetime
    created_at: datetime
    decided_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status == MoneyRequestStatus.OPEN

    def role_for(self, user_id: str) -> str:
        """``incoming`` for the payer (asked to pay), ``outgoing`` for the requester."""
        return "incoming" if user_id == self.payer.user_id else "outgoing"


def status_at(stored: str, expires_at: datetime, now: datetime) -> str:
    """The status a reader sees: an ``open`` request is ``expired`` from ``expires_at`` on,
    whether or not the expiry job has stored it yet."""
    if stored == MoneyRequestStatus.OPEN and now >= expires_at:
        return MoneyRequestStatus.EXPIRED
    return stored


@dataclass(frozen=True, slots=True)
class SplitBillView:
    id: str
    total: Money
    note: str | None
    created_at: datetime
    shares: tuple[MoneyRequestView, ...]  # one request per payer, in the order given

    def count(self, status: str) -> int:
        return sum(1 for share in self.shares if share.status == status)

    @property
    def collected(self) -> Money:
        paid = sum(s.amount.minor for s in self.shares if s.status == MoneyRequestStatus.PAID)
        return Money(paid, self.total.currency)
