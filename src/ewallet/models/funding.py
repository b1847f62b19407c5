"""Bound bank cards and top-ups. Card numbers are never stored: a keyed fingerprint,
the BIN, the last four digits and the bank's agreement token (encrypted) are enough."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending_verification', 'active', 'unbound', 'failed')",
            name="status_known",
        ),
        # A card is bound at most once per user at a time (card_already_bound).
        Index(
            "uq_cards_user_id_fingerprint_live",
            "user_id",
            "fingerprint",
            unique=True,
            postgresql_where=text("status IN ('pending_verification', 'active')"),
            sqlite_where=text("status IN ('pending_verification', 'active')"),
        ),
        Index("ix_cards_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(24))
    bank_code: Mapped[str] = mapped_column(String(16))
    bank_name: Mapped[str] = mapped_column(String(60))
    card_type: Mapped[str] = mapped_column(String(16))
    bin: Mapped[str] = mapped_column(String(10))
    last_four: Mapped[str] = mapped_column(String(4))
    fingerprint: Mapped[str] = mapped_column(String(64))
    holder_name_masked: Mapped[str] = mapped_column(String(40))
    bank_phone_masked: Mapped[str] = mapped_column(String(20))
    # The bank's binding request, and the agreement it returns once the code is proven.
    binding_request_id: Mapped[str] = mapped_column(String(64), unique=True)
    agreement_token_encrypted: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Topup(Base):
    """Money coming into a wallet: from a card, a PSP, or cash at a counter."""

    __tablename__ = "topups"
    __table_args__ = (
        CheckConstraint(
            "method IN ('card', 'alipay', 'wechat_pay', 'counter')", name="method_known"
        ),
        CheckConstraint(
            "status IN ('awaiting_payment', 'pending', 'succeeded', 'failed', 'closed')",
            name="status_known",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_topups_user_id_created_at", "user_id", "created_at"),
        Index("uq_topups_user_id_request_key", "user_id", "request_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(String(12))
    card_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("cards.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    # The bank's or PSP's reference for the money movement, once known.
    provider_reference: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    ledger_transaction_id: Mapped[str | None] = mapped_column(String(32))
    # The request that made it (kit/request_key.py): a rerun finds it instead of another.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Withdrawal(Base):
    """Money leaving a wallet for the owner's own card: held first, posted on bank success."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        CheckConstraint(
            "status IN ('processing', 'pending', 'succeeded', 'failed')", name="status_known"
        ),
        CheckConstraint("amount > 0 AND fee >= 0", name="amounts_valid"),
        Index("ix_withdrawals_user_id_created_at", "user_id", "created_at"),
        Index("ix_withdrawals_status", "status"),
        Index("uq_withdrawals_user_id_request_key", "user_id", "request_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    card_id: Mapped[str] = mapped_column(String(32), ForeignKey("cards.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12))
    # Ledger holds: the amount (wallet -> bank settlement) and the fee (wallet -> fee revenue).
    hold_id: Mapped[str | None] = mapped_column(String(32))
    fee_hold_id: Mapped[str | None] = mapped_column(String(32))
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    # The request that made it (kit/request_key.py): a rerun finds it instead of another.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
