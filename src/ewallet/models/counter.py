"""Cash taken at a bank counter and credited to a wallet, and the large-cash records kept
for regulatory reporting.

A counter deposit is identified at the branch by its paper receipt: ``(branch,
receipt_no)`` is unique, so a teller who submits the same slip twice gets the first
deposit back instead of crediting the customer twice. A deposit at or above the large-cash
threshold waits for a second staff member (``awaiting_approval``); each of those has one
``large_cash_records`` row, written when the cash is taken and completed on approval.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class DepositStatus(StrEnum):
    """A deposit below the threshold is ``completed`` at once; a large one waits
    (``awaiting_approval``) until a second person completes or rejects it."""

    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    REJECTED = "rejected"


class CounterDeposit(Base):
    __tablename__ = "counter_deposits"
    __table_args__ = (
        CheckConstraint(
            "status IN ('awaiting_approval', 'completed', 'rejected')", name="status_known"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        # One deposit per paper receipt at a branch (a resubmitted slip finds the first).
        Index("uq_counter_deposits_branch_receipt_no", "branch", "receipt_no", unique=True),
        Index("ix_counter_deposits_status_created_at", "status", "created_at"),
        Index("ix_counter_deposits_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    branch: Mapped[str] = mapped_column(String(32))
    receipt_no: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    # The number the teller was given (E.164), kept as entered for the record.
    phone: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    teller_id: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"))
    # The supervisor who approved or rejected a large deposit.
    decided_by: Mapped[str | None] = mapped_column(String(32), ForeignKey("staff.id"))
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    ledger_transaction_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LargeCashRecord(Base):
    """What a large-cash report needs, frozen at the time the cash was taken.

    Name and phone are stored masked: the report identifies the customer through
    ``user_id``; the masked forms are what a report reader sees.
    """

    __tablename__ = "large_cash_records"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_large_cash_records_occurred_at", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    deposit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("counter_deposits.id"), unique=True
    )
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    customer_name_masked: Mapped[str | None] = mapped_column(String(40))
    phone_masked: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    branch: Mapped[str] = mapped_column(String(32))
    teller_id: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(32), ForeignKey("staff.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
