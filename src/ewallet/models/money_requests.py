"""Receiving and asking: personal receive codes, money requests and split bills.

A **receive code** (收款码) is one row per customer: an unguessable token that a QR code
carries as the web wallet's ``/r/<token>``, with an optional fixed amount and note.
Resetting it writes a new token over the old one, so the old QR stops working at once.

A **money request** asks one customer (the payer) for an amount on behalf of another (the
requester). It is ``open`` until the payer pays it (``paid``, naming the transfer written in
the same unit), declines it, the requester cancels it, or it expires. Expiry is computed
from ``expires_at`` wherever a request is read (an open request past it is shown and
treated as expired); an outbox event due at ``expires_at`` then stores ``expired`` and
sends the notices. A **split bill** (AA) is the parent of one request per payer.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class MoneyRequestStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ReceiveCode(Base):
    __tablename__ = "money_receive_codes"
    __table_args__ = (
        CheckConstraint("fixed_amount IS NULL OR fixed_amount > 0", name="fixed_amount_positive"),
    )

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    fixed_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SplitBill(Base):
    __tablename__ = "money_request_splits"
    __table_args__ = (
        CheckConstraint("total > 0", name="total_positive"),
        Index("ix_money_request_splits_requester_created_at", "requester_user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requester_user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    total: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MoneyRequest(Base):
    __tablename__ = "money_requests"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("requester_user_id <> payer_user_id", name="not_to_self"),
        CheckConstraint(
            "status IN ('open', 'paid', 'declined', 'cancelled', 'expired')", name="status_known"
        ),
        # Paid exactly when it names the transfer that paid it.
        CheckConstraint("(status = 'paid') = (transfer_id IS NOT NULL)", name="paid_iff_transfer"),
        Index("ix_money_requests_payer_created_at", "payer_user_id", "created_at"),
        Index("ix_money_requests_requester_created_at", "requester_user_id", "created_at"),
        Index("ix_money_requests_split_id", "split_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requester_user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    payer_user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(10))  # MoneyRequestStatus
    split_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("money_request_splits.id"))
    # The transfer that paid it: written in the transfer's own unit, before the transfer's
    # row (so no foreign key; the unit commits both or neither).
    transfer_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
