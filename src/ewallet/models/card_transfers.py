"""Transfers to another person's bank card: one row per transfer, its money on two ledger
holds (the amount and the fee) until the bank pays the card (docs/card-transfers.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime
from ewallet.models.transfers import ARRIVALS_SQL


class CardTransferStatus(StrEnum):
    """``scheduled`` (delayed: held until ``arrives_at``, cancellable), ``processing`` (the
    bank is being asked), ``pending`` (its answer was lost: settled from its records),
    then ``succeeded`` (holds posted), ``failed`` (declined or refused: holds voided) or
    ``cancelled`` (by the payer before arrival: holds voided)."""

    SCHEDULED = "scheduled"
    PROCESSING = "processing"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATUSES_SQL = "'scheduled', 'processing', 'pending', 'succeeded', 'failed', 'cancelled'"


class CardTransfer(Base):
    __tablename__ = "card_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        CheckConstraint(f"status IN ({STATUSES_SQL})", name="status_known"),
        CheckConstraint(f"arrival IN ({ARRIVALS_SQL})", name="arrival_known"),
        CheckConstraint(
            "(arrival = 'realtime') = (arrives_at IS NULL)", name="arrives_at_iff_delayed"
        ),
        Index("ix_card_transfers_user_id_created_at", "user_id", "created_at"),
        Index("ix_card_transfers_status_updated_at", "status", "updated_at"),
        Index("uq_card_transfers_user_id_request_key", "user_id", "request_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    # The payee as the payer typed them: the name the bank checked, the card number kept
    # encrypted (the bank is asked with it at arrival time; shown as its last four only).
    payee_name: Mapped[str] = mapped_column(String(40))
    card_number_encrypted: Mapped[str] = mapped_column(Text)
    card_last_four: Mapped[str] = mapped_column(String(4))
    bank_code: Mapped[str] = mapped_column(String(16))
    bank_name: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))  # CardTransferStatus
    arrival: Mapped[str] = mapped_column(String(8))  # transfers.Arrival
    arrives_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hold_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    fee_hold_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the bank was (or will be) asked: the settle job's grace counts from it.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
