"""What other code reads of a transfer: its parties (masked) and the transfer itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ewallet.kit.money import Money
from ewallet.kit.phone import mask_phone
from ewallet.models.identity import User
from ewallet.models.transfers import TransferStatus


@dataclass(frozen=True, slots=True)
class Party:
    """Someone on the other side, as the other side may see them: masked."""

    user_id: str
    phone_masked: str
    name_masked: str | None

    @classmethod
    def of(cls, user: User) -> Party:
        return cls(user.id, mask_phone(user.phone), user.real_name_masked)

    def describe(self) -> str:
        """``张* (138****0002)``, or the masked phone alone when the name is not known."""
        if self.name_masked:
            return f"{self.name_masked} ({self.phone_masked})"
        return self.phone_masked


@dataclass(frozen=True, slots=True)
class Payee:
    party: Party
    new_payee: bool  # the sender never transferred to this wallet before


@dataclass(frozen=True, slots=True)
class TransferView:
    id: str
    payer: Party
    payee: Party
    amount: Money
    memo: str | None
    status: str  # TransferStatus
    ledger_transaction_id: str | None  # None until it posts (held for review, rejected)
    created_at: datetime
    # Held for review (docs/risk-review.md): when a risk officer's decision is due.
    review_due_at: datetime | None = None
    review_id: str | None = None

    @property
    def under_review(self) -> bool:
        return self.status == TransferStatus.UNDER_REVIEW

    def direction_for(self, user_id: str) -> str:
        return "out" if user_id == self.payer.user_id else "in"

    def counterparty_for(self, user_id: str) -> Party:
        return self.payee if user_id == self.payer.user_id else self.payer
