"""Settlement: where merchants and billers are paid, and each day's payout to them.

A *party* is a merchant (``merchant``, its ledger account ``merchant:<id>``) or a biller
(``biller``, ``biller_payable:<id>``). ``payout_accounts`` holds the bank account each is
paid to (the number encrypted, like every card number; its last four digits in clear).
``settlements`` has one row per party per Asia/Shanghai business day, unique, so a rerun
of a day finds the row instead of paying again; the bank request id is derived from it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class PartyKind(StrEnum):
    MERCHANT = "merchant"
    BILLER = "biller"


class SettlementStatus(StrEnum):
    """``carried``: nothing to pay (zero or negative, carried forward); ``processing``: the
    payout is held and the bank is being asked; ``pending``: the bank's answer is unknown;
    ``paid`` and ``failed`` are final (a failed payout's money is owed again)."""

    CARRIED = "carried"
    PROCESSING = "processing"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


OPEN_STATUSES = (SettlementStatus.PROCESSING, SettlementStatus.PENDING)


class PayoutAccount(Base):
    __tablename__ = "payout_accounts"
    __table_args__ = (
        CheckConstraint("party_kind IN ('merchant', 'biller')", name="party_kind_known"),
    )

    party_kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_number_encrypted: Mapped[str] = mapped_column(String(255))
    last4: Mapped[str] = mapped_column(String(4))
    holder_name: Mapped[str] = mapped_column(String(64))
    bank_code: Mapped[str] = mapped_column(String(16))
    bank_name: Mapped[str] = mapped_column(String(40))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Settlement(Base):
    __tablename__ = "settlements"
    __table_args__ = (
        CheckConstraint("party_kind IN ('merchant', 'biller')", name="party_kind_known"),
        CheckConstraint(
            "status IN ('carried', 'processing', 'pending', 'paid', 'failed')",
            name="status_known",
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        UniqueConstraint("party_kind", "party_id", "business_day", name="uq_settlements_party_day"),
        Index("ix_settlements_status", "status"),
        Index("ix_settlements_business_day", "business_day"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    party_kind: Mapped[str] = mapped_column(String(12))
    party_id: Mapped[str] = mapped_column(String(32))
    business_day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, Beijing time
    currency: Mapped[str] = mapped_column(String(3))
    # The ledger window this row covers: [period_start, period_end).
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    # Of the window, in fen: what the statement shows (payments gross, refunds, fees).
    gross: Mapped[int] = mapped_column(BigInteger)
    refunds: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    # The party's ledger account moved by this much in the window (payouts excluded).
    net: Mapped[int] = mapped_column(BigInteger)
    # Owed from earlier days (negative: a shortfall carried in).
    carried_in: Mapped[int] = mapped_column(BigInteger)
    # Paid out by this row's payout (0 when carried).
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    hold_id: Mapped[str | None] = mapped_column(String(32))
    bank_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    bank_code: Mapped[str | None] = mapped_column(String(16))
    account_last4: Mapped[str | None] = mapped_column(String(4))
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
