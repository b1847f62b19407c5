"""Wallet-to-wallet transfers by phone number: one row per transfer, one ledger entry each;
and each user's default arrival option (docs/transfers.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
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
    # A delayed transfer (``2h``, ``next_day``) waits ``scheduled`` on its hold until
    # ``arrives_at``; the payer may cancel it before (``cancelled``, the hold voided). On
    # arrival it posts (``succeeded``), or goes back to the payer (``returned``, the hold
    # voided) when either side can no longer move money.
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class Arrival(StrEnum):
    """When a transfer reaches the payee (PBoC 银发〔2016〕261号): at once, two hours after
    it was accepted, or 24 hours after (docs/transfers.md, "Arrival options")."""

    REALTIME = "realtime"
    TWO_HOURS = "2h"
    NEXT_DAY = "next_day"


STATUSES_SQL = "'succeeded', 'under_review', 'rejected', 'scheduled', 'cancelled', 'returned'"
ARRIVALS_SQL = "'realtime', '2h', 'next_day'"


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("payer_user_id <> payee_user_id", name="not_to_self"),
        CheckConstraint(f"status IN ({STATUSES_SQL})", name="status_known"),
        CheckConstraint(f"arrival IN ({ARRIVALS_SQL})", name="arrival_known"),
        # A delayed transfer knows when it arrives; a real-time one has no such time.
        CheckConstraint(
            "(arrival = 'realtime') = (arrives_at IS NULL)", name="arrives_at_iff_delayed"
        ),
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
    arrival: Mapped[str] = mapped_column(  # Arrival
        String(8), default=Arrival.REALTIME.value, server_default=text("'realtime'")
    )
    # A delayed transfer: when its arrival job posts the hold (and until when it can be
    # cancelled); when it was cancelled, posted or returned.
    arrives_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TransferSettings(Base):
    """A user's transfer preferences: the arrival option a new transfer takes when the
    request names none (no row: ``realtime``)."""

    __tablename__ = "transfer_settings"
    __table_args__ = (
        CheckConstraint(f"default_arrival IN ({ARRIVALS_SQL})", name="arrival_known"),
    )

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), primary_key=True)
    default_arrival: Mapped[str] = mapped_column(String(8))  # Arrival
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
