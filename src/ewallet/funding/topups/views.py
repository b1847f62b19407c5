"""What the top-up services hand back: a plain value read from one ``topups`` row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from ewallet.kit.money import Money


@dataclass(frozen=True, slots=True)
class TopupView:
    id: str
    user_id: str
    method: str
    amount: Money
    status: str
    provider_reference: str | None
    ledger_transaction_id: str | None
    created_at: datetime
    completed_at: datetime | None
    failure_reason: str | None = None

    @classmethod
    def of(cls, row: Row[Any]) -> TopupView:
        return cls(
            id=row.id,
            user_id=row.user_id,
            method=row.method,
            amount=Money(row.amount, row.currency),
            status=row.status,
            provider_reference=row.provider_reference,
            ledger_transaction_id=row.ledger_transaction_id,
            created_at=row.created_at,
            completed_at=row.completed_at,
            failure_reason=row.failure_reason,
        )


@dataclass(frozen=True, slots=True)
class CardTopup:
    """A card top-up with the bank of its card (whose request id names its one debit)."""

    topup: TopupView
    bank_code: str
