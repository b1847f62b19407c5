"""Wallet-to-wallet transfers by phone number: one row per transfer, one ledger entry each."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class TransferStatus(StrEnum):
    """A transfer posts at once (one balanced entry) -- ``succeeded`` -- unless risk control
    holds it for review: then it is ``under_review`` on a ledger hold until a risk officer
    approves it (``succeeded``, the hold posted) or rejects it (``rejected``, the hold
    voided, the money back with the payer). docs/risk-review.md."""

    SUCCEEDED = "succeeded"
    UNDER_REVIEW = "under_review"
    REJECTED = "rejected"


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("payer_user_id <> payee_user_id", name="not_to_self"),
        CheckConstraint("status IN ('succeeded', 'under_review', 'rejected')", name="status_known"),
        # Posted exactly when it succeeded; a held one keeps its hold and review instead.
        CheckConstraint(
            "(status = 'succeeded') = (ledger_transaction_id IS NOT NULL)",
            name="posted_iff_succeeded",
        ),
        Index("ix_transfers_payer_user_id_created_at", "payer_user_id", "created_at"),
        Index("ix_transfers_payee_user_id_created_at", "payee_user_id", "created_at"),
        Index(
            "uq_transfers_payer_user_id_request_key", "payer_user_id", "request_key", unique=True
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    payer_user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    payee_user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str]  # TransferStatus = mapped_column(String(12))
    # Null while held for review (and after a rejection: nothing was posted).
    ledger_transaction_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    # A transfer held for review: the ledger hold keeping its money and the review.
    hold_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    review_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("risk_reviews.id"))
    # The request that made it (kit/request_key.py): a rerun finds it instead of another.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
