"""What other code reads of bills: a bill looked up at its biller, a payment, a receipt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ewallet.integrations.biller.directory import BillerSpec
from ewallet.kit.money import Money
from ewallet.models.bills import BillCardStatus, BillPaymentStatus


def mask_account(account_no: str) -> str:
    """``1000000001`` → ``100***0001``: enough for the owner to recognise, not to reuse."""
    if len(account_no) >= 8:
        return account_no[:3] + "*" * (len(account_no) - 7) + account_no[-4:]
    return "*" * max(0, len(account_no) - 4) + account_no[-4:]


@dataclass(frozen=True, slots=True)
class BillLookup:
    """An account's current bill, as its biller answered (moves nothing)."""

    biller: BillerSpec
    account_no: str
    holder_name_masked: str
    amount_due: Money
    period: str
    due_date: date


@dataclass(frozen=True, slots=True)
class BillFunding:
    """How a card-funded bill payment is split (docs/bills.md): the balance part, the card
    part, the card, and where the card debit stands (``pending``, ``debited``, ``declined``)."""

    source: str  # FundingSource: card | balance_and_card
    balance: Money
    card: Money
    card_id: str
    card_status: str  # BillCardStatus


@dataclass(frozen=True, slots=True)
class BillPaymentView:
    id: str
    user_id: str
    biller_id: str
    account_no: str
    holder_name_masked: str | None
    period: str | None
    amount: Money
    status: str  # BillPaymentStatus
    ledger_transaction_id: str | None  # None while held for review and after a rejection
    refund_transaction_id: str | None
    biller_confirmation: str | None
    receipt_no: str | None
    failure_reason: str | None
    delivery_attempts: int
    created_at: datetime
    completed_at: datetime | None
    # Held for review (docs/risk-review.md): its hold, its review and when that is due.
    hold_id: str | None = None
    review_id: str | None = None
    review_due_at: datetime | None = None
    # Funded by a bound card (docs/bills.md); all None for a payment from the balance.
    funding_source: str | None = None
    card_id: str | None = None
    card_topup_id: str | None = None
    card_part: Money | None = None
    card_status: str | None = None

    @property
    def funding(self) -> BillFunding | None:
        """The split of a card-funded payment; None for one from the balance."""
        if self.funding_source is None or self.card_part is None or self.card_id is None:
            return None
        return BillFunding(
            source=self.funding_source,
            balance=self.amount - self.card_part,
            card=self.card_part,
            card_id=self.card_id,
            card_status=self.card_status or BillCardStatus.PENDING,
        )

    @property
    def awaiting_bank(self) -> bool:
        """The bank has not answered for its card part: nothing posted, the biller not told."""
        return self.card_status == BillCardStatus.PENDING

    @property
    def card_declined(self) -> bool:
        """The bank did not debit its card: nothing moved (the payment is ``rejected``)."""
        return self.card_status == BillCardStatus.DECLINED

    @property
    def account_no_masked(self) -> str:
        return mask_account(self.account_no)

    @property
    def under_review(self) -> bool:
        return self.status == BillPaymentStatus.UNDER_REVIEW


@dataclass(frozen=True, slots=True)
class Receipt:
    """A succeeded payment with the biller it paid: what a user shows a landlord."""

    payment: BillPaymentView
    biller: BillerSpec

    @property
    def receipt_no(self) -> str:
        assert self.payment.receipt_no is not None
        return self.payment.receipt_no

    @property
    def paid_at(self) -> datetime:
        assert self.payment.completed_at is not None
        return self.payment.completed_at


@dataclass(frozen=True, slots=True)
class BillPaymentDetail:
    """A payment of any status with the biller it went to: what a payment's page shows
    (its receipt once it succeeded, its progress or failure before)."""

    payment: BillPaymentView
    biller: BillerSpec

    @property
    def receipt(self) -> Receipt | None:
        """The receipt, for a succeeded payment only."""
        if self.payment.status != BillPaymentStatus.SUCCEEDED:
            return None
        return Receipt(self.payment, self.biller)


@dataclass(frozen=True, slots=True)
class CardOption:
    """A bound card a bill may be paid with: bank and last four digits only."""

    id: str
    bank_name: str
    last_four: str


@dataclass(frozen=True, slots=True)
class FundingOptions:
    """What a user could pay a bill from: the available balance and their active cards."""

    available: Money
    cards: tuple[CardOption, ...]


@dataclass(frozen=True, slots=True)
class PayableBill:
    """A bill looked up for its payer, with what they could pay it from (the pay page)."""

    bill: BillLookup
    options: FundingOptions

    def default_source(self, amount: Money) -> str:
        """The pay page's preselected choice for ``amount``: the balance when it covers it
        (or no card is bound), else the balance and the first card for the rest."""
        if not self.options.cards or self.options.available.minor >= amount.minor:
            return "balance"
        return f"balance_and_card:{self.options.cards[0].id}"
