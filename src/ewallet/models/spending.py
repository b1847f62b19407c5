"""Spend records: every spend that counts toward a daily cap, written with the money.

A record is inserted in the same unit of work as the ledger command that moves the money,
so a rolled-back spend leaves no record and a committed one always has its record. A
spend that did not happen after all (a voided withdrawal) is released, not deleted, so
the history of what was counted stays readable.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class SpendChannel(StrEnum):
    """How the money left the wallet (``spend_records.channel``)."""

    PAYMENT = "payment"  # paying an order / dynamic QR
    PAYMENT_CODE = "payment_code"  # cashier scans the user's payment code
    STATIC_QR = "static_qr"  # user scans a merchant's static QR
    TRANSFER = "transfer"
    BILL = "bill"
    WITHDRAWAL = "withdrawal"


class AuthStrength(StrEnum):
    """How the spender confirmed it (``spend_records.auth``)."""

    NONE = "none"  # password-free small payments / payment code under the no-PIN cap
    PIN = "pin"  # payment password checked
    PIN_AND_SMS = "pin_and_sms"  # PIN plus an SMS or TOTP step-up


class SpendRecord(Base):
    __tablename__ = "spend_records"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "channel IN ('payment', 'payment_code', 'static_qr', 'transfer', 'bill', 'withdrawal')",
            name="channel_known",
        ),
        CheckConstraint("auth IN ('none', 'pin', 'pin_and_sms')", name="auth_known"),
        # A day's spends of one user: the daily caps read exactly this range.
        Index("ix_spend_records_user_id_created_at", "user_id", "created_at"),
        # Has this user paid this counterparty before (risk's ``is_new_payee``).
        Index("ix_spend_records_user_id_counterparty", "user_id", "counterparty"),
        # Spends to one counterparty from anyone (risk's payee velocity).
        Index("ix_spend_records_counterparty_created_at", "counterparty", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    # The business operation that spent (``transfer:<id>``, ``payment:<id>`` ...).
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # SpendChannel
    auth: Mapped[str] = mapped_column(String(12))  # AuthStrength
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who was paid: the payee's user id, the merchant's or the biller's id (None: the
    # spender's own card, a withdrawal).
    counterparty: Mapped[str | None] = mapped_column(String(40))
