"""What a card-funded payment is, as the service and the answers read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from ewallet.kit.money import Money
from ewallet.models.card_payments import FundingSource

if TYPE_CHECKING:  # payments/views.py imports this module's Funding
    from ewallet.payments.views import PayerOrder


@dataclass(frozen=True, slots=True)
class FundingChoice:
    """Where the payer wants the money from: ``card_id`` for ``card`` / ``balance_and_card``."""

    source: FundingSource = FundingSource.BALANCE
    card_id: str | None = None


@dataclass(frozen=True, slots=True)
class Funding:
    """How a payment was funded: the balance part, the card part and the card."""

    source: FundingSource
    balance: Money
    card: Money
    card_id: str | None = None


@dataclass(frozen=True, slots=True)
class CardPaymentView:
    id: str  # the payment's id
    user_id: str
    order_id: str
    card_id: str
    topup_id: str
    source: FundingSource
    amount: Money
    balance_part: Money
    card_part: Money
    hold_id: str | None
    status: str
    failure_reason: str | None
    request_key: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> CardPaymentView:
        currency = row.currency
        return cls(
            id=row.id,
            user_id=row.user_id,
            order_id=row.order_id,
            card_id=row.card_id,
            topup_id=row.topup_id,
            source=FundingSource(row.source),
            amount=Money(row.amount, currency),
            balance_part=Money(row.balance_part, currency),
            card_part=Money(row.card_part, currency),
            hold_id=row.hold_id,
            status=row.status,
            failure_reason=row.failure_reason,
            request_key=row.request_key,
            created_at=row.created_at,
        )

    @property
    def funding(self) -> Funding:
        return Funding(self.source, self.balance_part, self.card_part, self.card_id)


@dataclass(frozen=True, slots=True)
class PendingCardPayment:
    """A card payment whose bank answer is not recorded yet, with its card's bank."""

    payment: CardPaymentView
    bank_code: str


@dataclass(frozen=True, slots=True)
class CardChoice:
    """A card the payer may pay with: bank and last four digits only."""

    id: str
    bank_name: str
    last_four: str


@dataclass(frozen=True, slots=True)
class PayerChoices:
    """An order as its payer sees it, with what they could pay it from: the available
    balance and their active cards (the order page offers the card when it is short)."""

    shown: PayerOrder
    available: Money
    cards: tuple[CardChoice, ...]

    @property
    def short(self) -> bool:
        return self.available.minor < self.shown.order.amount.minor

    @property
    def rest(self) -> Money:
        """What the card would pay after the balance."""
        amount = self.shown.order.amount
        return Money(max(0, amount.minor - max(0, self.available.minor)), amount.currency)
