"""Wallet-to-wallet transfers by phone number: one row per transfer, one ledger entry each."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class TransferStatus(StrEnum):
    # Transfers post at once (one balanced entry), so the only status today is succeeded.
    SUCCEEDED = "succeeded"


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("payer_user_id <> payee_user_id", name="not_to_self"),
        CheckConstraint("status IN ('succeeded')", name="status_known"),
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
    ledger_transaction_id: Mapped[str] = mapped_column(String(32), unique=True)
    # The request that made it (kit/request_key.py): a rerun finds it instead of another.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
