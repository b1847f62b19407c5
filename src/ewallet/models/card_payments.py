"""Payments funded (partly) by a bound card: the card part's bank debit, earmarked.

A ``card_payments`` row is one payment of an order from the card (``source`` ``card``) or
from the balance and the card for the rest (``balance_and_card``), docs/card-payments.md.
Its id is the payment's id (``pay_…``): the ``payments`` row written when the order is
paid carries the same id. The card part is a card top-up (``topup_id``, bank request id
``topup:<topup_id>``) earmarked for this order; the balance part waits on a ledger hold
(``hold_id``) while the bank is asked. ``status`` leaves ``pending`` once, by a conditional
``UPDATE``: ``succeeded`` (the order is paid), ``failed`` (nothing moved: declined, not
debited) or ``kept`` (the card was debited but the order could no longer be paid -- the
money stayed in the wallet as a top-up and the payer was told).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class CardPaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    KEPT = "kept"  # debited, but the order was no longer payable: the money is in the wallet


class FundingSource(StrEnum):
    """Where a payment's money comes from (``funding.source`` in the API)."""

    BALANCE = "balance"
    CARD = "card"
    BALANCE_AND_CARD = "balance_and_card"


class CardPayment(Base):
    __tablename__ = "card_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("card_part > 0", name="card_part_positive"),
        CheckConstraint("balance_part >= 0", name="balance_part_not_negative"),
        CheckConstraint("balance_part + card_part = amount", name="parts_sum_to_amount"),
        CheckConstraint("source IN ('card', 'balance_and_card')", name="source_known"),
        CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'kept')", name="status_known"
        ),
        Index("ix_card_payments_user_id_created_at", "user_id", "created_at"),
        Index("ix_card_payments_status", "status"),
        Index("uq_card_payments_topup_id", "topup_id", unique=True),
        Index("uq_card_payments_user_id_request_key", "user_id", "request_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the payment's id
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.id"))
    card_id: Mapped[str] = mapped_column(String(32), ForeignKey("cards.id"))
    topup_id: Mapped[str] = mapped_column(String(32), ForeignKey("topups.id"))
    source: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_part: Mapped[int] = mapped_column(BigInteger)
    card_part: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    hold_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    status: Mapped[str] = mapped_column(String(20))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
