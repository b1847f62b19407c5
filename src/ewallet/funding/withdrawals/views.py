"""What the withdrawal services hand back: a plain value read from one ``withdrawals`` row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Row

from ewallet.funding.withdrawals.fees import FeeQuote
from ewallet.kit.clock import as_utc
from ewallet.kit.money import Money
from ewallet.models.funding import WithdrawalStatus

# Not final yet: the money is held until the bank's answer is known.
OPEN: Final = (WithdrawalStatus.PROCESSING, WithdrawalStatus.PENDING)


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    id: str
    user_id: str
    card_id: str
    amount: Money
    fee: Money
    status: str
    bank_reference: str | None
    failure_reason: str | None
    created_at: datetime
    completed_at: datetime | None
    # The ledger holds of the amount and of the fee (None before they are made, or no fee).
    hold_id: str | None = None
    fee_hold_id: str | None = None
    # Held for risk review (docs/risk-review.md): the review, when it is due and when a risk
    # officer approved it (the bank is asked only after).
    review_id: str | None = None
    review_due_at: datetime | None = None
    approved_at: datetime | None = None

    @property
    def total(self) -> Money:
        return self.amount + self.fee

    @property
    def is_open(self) -> bool:
        """Not final yet: the money is held until the bank's answer is known (``202``)."""
        return self.status in OPEN

    @property
    def under_review(self) -> bool:
        """Held for a risk officer's decision; the bank not asked yet (``202 under_review``)."""
        return self.status == WithdrawalStatus.UNDER_REVIEW

    @classmethod
    def of(cls, row: Row[Any]) -> WithdrawalView:
        """The row of ``withdrawals``, with the review's ``review_due_at`` if it was read."""
        due = row._mapping.get("review_due_at")
        return cls(
            id=row.id,
            user_id=row.user_id,
            card_id=row.card_id,
            amount=Money(row.amount, row.currency),
            fee=Money(row.fee, row.currency),
            status=row.status,
            bank_reference=row.bank_reference,
            failure_reason=row.failure_reason,
            created_at=row.created_at,
            completed_at=row.completed_at,
            hold_id=row.hold_id,
            fee_hold_id=row.fee_hold_id,
            review_id=row.review_id,
            review_due_at=None if due is None else as_utc(due),
            approved_at=None if row.approved_at is None else as_utc(row.approved_at),
        )


@dataclass(frozen=True, slots=True)
class PayoutCard:
    """The active card a withdrawal pays out to: its bank and (encrypted) agreement."""

    id: str
    bank_code: str
    agreement_token_encrypted: str | None


@dataclass(frozen=True, slots=True)
class CardChoice:
    """An active card a withdrawal may pay out to, as a person picks it."""

    id: str
    bank_code: str
    bank_name: str
    card_type: str
    last_four: str


@dataclass(frozen=True, slots=True)
class WithdrawalOptions:
    """What a withdrawal form offers: the cards to pay out to (newest first), what the
    wallet has available now, what is left of the free quota, and the fee charged above it
    (``fee_rate`` of the amount, at least ``min_fee``)."""

    cards: list[CardChoice]
    available: Money
    free_quota_remaining: Money
    fee_rate: Decimal
    min_fee: Money


@dataclass(frozen=True, slots=True)
class WithdrawalQuote:
    """What confirming a withdrawal would cost now (the fee quote), to which card, and
    whether the wallet's available balance covers amount and fee (``covered``)."""

    quote: FeeQuote
    card: CardChoice
    available: Money

    @property
    def covered(self) -> bool:
        return self.quote.total <= self.available
