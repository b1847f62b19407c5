"""Billers (the directory users pay) and bill payments (one row and one ledger entry each)."""

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
    REJECTED = "rejected"  # a risk officer rejected it: the hold voided, nothing posted


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
    """

    __tablename__ = "bill_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'under_review', 'rejected')",
            name="status_known",
        ),
        # Posted unless risk control held it (waiting, or rejected: nothing was posted).
        CheckConstraint(
            "(ledger_transaction_id IS NULL) = (status IN ('under_review', 'rejected'))",
            name="posted_unless_held",
        ),
        Index("ix_bill_payments_user_id_created_at", "user_id", "created_at"),
        Index("ix_bill_payments_status_updated_at", "status", "updated_at"),
        Index("uq_bill_payments_user_id_request_key", "user_id", "request_key", unique=True),
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
    # Held for review: the ledger hold keeping its amount and the review deciding it.
    hold_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    review_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("risk_reviews.id"))
    refund_transaction_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    biller_confirmation: Mapped[str | None] = mapped_column(String(64))
    receipt_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    delivery_attempts: Mapped[int] = mapped_column(Integer)
    # The request that made it (kit/request_key.py): a rerun finds it instead of another.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
