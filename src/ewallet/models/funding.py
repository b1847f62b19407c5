"""Bound bank cards and top-ups. Card numbers are never stored: a keyed fingerprint,
the BIN, the last four digits and the bank's agreement token (encrypted) are enough."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class CardStatus(StrEnum):
    """A bound card's life: pending until the bank's code is proven, then active until
    unbound; a binding the bank refused (or whose code ran out of attempts) is failed."""

    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    UNBOUND = "unbound"
    FAILED = "failed"


# A live card is bound (or being bound): it counts toward the limit and blocks a rebind.
LIVE_CARD_STATUSES: Final = (CardStatus.PENDING_VERIFICATION, CardStatus.ACTIVE)


class TopupMethod(StrEnum):
    CARD = "card"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    COUNTER = "counter"


class TopupStatus(StrEnum):
    """``awaiting_payment`` (a PSP order is open), ``pending`` (a card debit's outcome is
    unknown), then ``succeeded`` (credited), ``failed`` or ``closed`` (the PSP closed it)."""

    AWAITING_PAYMENT = "awaiting_payment"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CLOSED = "closed"


class WithdrawalStatus(StrEnum):
    """``processing`` (held, the bank being asked), ``pending`` (its answer unknown), then
    ``succeeded`` (the holds posted) or ``failed`` (the holds voided). Risk control may
    hold one for review first: ``under_review`` (held, the bank NOT asked) until a risk
    officer approves it (``processing``, then as any other) or rejects it (``rejected``,
    the holds voided). docs/risk-review.md."""

    PROCESSING = "processing"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNDER_REVIEW = "under_review"
    REJECTED = "rejected"


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
            "status IN ('processing', 'pending', 'succeeded', 'failed', 'under_review', "
            "'rejected')",
            name="status_known",
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
    # Held for review: the review deciding it, and when a risk officer approved it (the
    # bank is asked only after; the settle job's grace counts from then).
    review_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("risk_reviews.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    # The request that made it (kit/request_key.py): a rerun finds it instead of another.
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
