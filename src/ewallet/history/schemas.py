"""History responses: amounts as decimal strings with a currency, counterparties masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ewallet.history.views import HistoryEntry
from ewallet.kit.amounts import AmountOut


class TransactionOut(BaseModel):
    id: str
    type: str = Field(
        description=(
            "The ledger transaction's kind (topup, withdrawal, fee, transfer, payment, refund, "
            "bill, reversal, adjustment, or a newer kind as it is), except card_transfer: the "
            "amount of a transfer to another person's bank card (its fee line is a fee with "
            "the same counterparty)"
        )
    )
    direction: Literal["in", "out"]
    amount: AmountOut
    balance_after: AmountOut | None
    counterparty: str | None
    status: Literal["succeeded", "pending", "reversed"]
    created_at: datetime
    # A delayed transfer still pending: when it reaches the payee (docs/transfers.md).
    arrives_at: datetime | None = None

    @classmethod
    def of(cls, entry: HistoryEntry) -> TransactionOut:
        return cls(
            id=entry.id,
            type=entry.type,
            direction=entry.direction,
            amount=AmountOut.of(entry.amount),
            balance_after=AmountOut.of(entry.balance_after) if entry.balance_after else None,
            counterparty=entry.counterparty,
            status=entry.status,
            created_at=entry.created_at,
            arrives_at=entry.details.get("arrives_at"),
        )


class TransactionDetailOut(TransactionOut):
    """One entry with the ids of the business records behind it (transfer, top-up ...)."""

    details: dict[str, Any]

    @classmethod
    def detail(cls, entry: HistoryEntry) -> TransactionDetailOut:
        return cls(**TransactionOut.of(entry).model_dump(), details=entry.details)


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    next_cursor: str | None
