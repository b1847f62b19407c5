"""Billers (the directory users pay) and bill payments (one row and one ledger entry each;
a card-funded one also names the card debit earmarked for it, docs/bills.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class BillerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # kept for past payments' receipts; not offered to pay


class BillPaymentStatus(StrEnum):
    PENDING = "pending"  # the money moved; the biller has not confirmed yet
    SUCCEEDED = "succeeded"  # the biller confirmed: a receipt exists
    FAILED = "failed"  # the biller refused for good: the entry was reversed
    # Risk control holds it for a staff decision: the amount on a ledger hold, the biller
    # not told (docs/risk-review.md); approved it becomes ``pending``, rejected ``rejected``.
    UNDER_REVIEW = "under_review"
    # A risk officer rejected it, or the bank did not debit the card funding it
    # (``card_status`` ``declined``): the hold voided, nothing posted, the biller not told.
    REJECTED = "rejected"


class BillCardStatus(StrEnum):
    """Where the card part of a card-funded bill payment stands."""

    PENDING = "pending"  # the bank is asked / its answer unknown: nothing posted yet
    DEBITED = "debited"  # the card was debited and the bill paid from the wallet
    DECLINED = "declined"  # not debited (declined, unreachable, never arrived): nothing moved


class Biller(Base):
    """A company users pay bills to; how its account numbers look is part of the row."""

    __tablename__ = "billers"
    __table_args__ = (
        CheckConstraint(
            "category IN ('electricity', 'water', 'gas', 'mobile_topup', 'broadband')",
            name="category_known",
        ),
        CheckConstraint("check_digit IS NULL OR check_digit IN ('luhn')", name="check_digit_known"),
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
        Index("ix_billers_category_sort_order", "category", "sort_order"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(32))
    # A full-match regular expression, and the hint shown when a number does not match it.
    account_pattern: Mapped[str] = mapped_column(String(200))
    account_hint_zh: Mapped[str] = mapped_column(String(100))
    account_hint_en: Mapped[str] = mapped_column(String(100))
    check_digit: Mapped[str | None] = mapped_column(String(8))
    # Mobile top-ups take one of these amounts (fen); bills take any positive amount (null).
    fixed_amounts: Mapped[list[int] | None] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(12))  # BillerStatus
    sort_order: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillPayment(Base):
    """A payment to a biller: the money moves first, the biller is told after commit.

    ``pending`` until the biller confirms (``succeeded``) or refuses for good (``failed``,
    the ledger entry reversed); an unanswered notification is retried through the outbox.
    One risk control holds for review waits ``under_review`` on its hold (no ledger entry,
    the biller not told) until a risk officer approves it (``pending``, the hold posted) or
    rejects it (``rejected``, the hold voided).

    Funded by a bound card (``funding_source`` ``card`` or ``balance_and_card``): the card
    part is the earmarked card top-up ``card_topup_id``; while the bank answers
    (``card_status`` ``pending``) the payment is ``pending`` with no ledger transaction and
    its balance part on the hold ``hold_id``; debited, the wallet is credited and the bill
    paid from it in one unit (``debited``, then as any pending payment); not debited, it
    ends ``rejected`` (``declined``) with nothing moved.
    """

    __tablename__ = "bill_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'under_review', 'rejected')",
            name="status_known",
        ),
        # Posted unless risk control held it (waiting, or rejected: nothing was posted) or
        # the bank has not answered for its card part yet.
        CheckConstraint(
            "(ledger_transaction_id IS NULL) = "
            "(status IN ('under_review', 'rejected') OR COALESCE(card_status, '') = 'pending')",
            name="posted_unless_held",
        ),
        # Balance-funded (every column null) or card-funded (all of them, consistent).
        CheckConstraint(
            "(funding_source IS NULL AND card_topup_id IS NULL AND card_part IS NULL "
            "AND card_status IS NULL AND card_id IS NULL) OR "
            "(funding_source IN ('card', 'balance_and_card') AND card_topup_id IS NOT NULL "
            "AND card_id IS NOT NULL AND card_part > 0 AND card_part <= amount "
            "AND card_status IN ('pending', 'debited', 'declined'))",
            name="funding_known",
        ),
        Index("ix_bill_payments_user_id_created_at", "user_id", "created_at"),
        Index("ix_bill_payments_status_updated_at", "status", "updated_at"),
        Index("uq_bill_payments_user_id_request_key", "user_id", "request_key", unique=True),
        Index("uq_bill_payments_card_topup_id", "card_topup_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    biller_id: Mapped[str] = mapped_column(String(32), ForeignKey("billers.id"))
    account_no: Mapped[str] = mapped_column(String(32))
    holder_name_masked: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))  # BillPaymentStatus
    # Null while held for review and after a rejection (the hold was never posted).
    ledger_transaction_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Held for review: the ledger hold keeping its amount and the review deciding it (or,
    # card-funded, the hold on the balance part while the bank answers).
    hold_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    review_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("risk_reviews.id"))
    refund_transaction_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    biller_confirmation: Mapped[str | None] = mapped_column(String(64))
    receipt_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    delivery_attempts: Mapped[int] = mapped_column(Integer)
    # The request that made it (kit/request_key.py): a rerun finds it instead of another.
    request_key: Mapped[str | None] = mapped_column(String(64))
    # Card-funded (docs/bills.md): how, the card, its earmarked top-up and the card's part.
    funding_source: Mapped[str | None] = mapped_column(String(20))  # FundingSource, not balance
    card_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("cards.id"))
    card_topup_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("topups.id"))
    card_part: Mapped[int | None] = mapped_column(BigInteger)
    card_status: Mapped[str | None] = mapped_column(String(12))  # BillCardStatus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
