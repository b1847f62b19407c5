"""Payment codes (the user's secret, and each code's one use as a charge) and the
password-free small-payment setting.

A payment code is derived from a per-user secret (:class:`PaymentCodeSecret`, encrypted at
rest); the server keeps no list of issued codes. What it keeps is every *use*: each charge
made with a code is a :class:`PaymentCodeCharge` row, unique per (user, time step,
counter), so a code can pay once and only once -- the database refuses a second row even
if two cashiers scan the same code at the same instant. A charge that is refused leaves no
row (its unit rolls back), so a refused code is not used up.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class ChargeStatus(StrEnum):
    """``payment_code_charges.status``; ``expired`` is never stored: a pending charge past
    its ``expires_at`` is shown so."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    EXPIRED = "expired"


class PaymentCodeSecret(Base):
    """One user's payment-code key: made on first use, replaced after a freeze/unfreeze."""

    __tablename__ = "payment_code_secrets"
    __table_args__ = (
        CheckConstraint("lookup_id >= 0 AND lookup_id < 100000000", name="lookup_id_range"),
    )

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), primary_key=True)
    # The number a code carries (blinded per time step) so a charge finds its user by index.
    lookup_id: Mapped[int] = mapped_column(Integer, unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # The newest freeze/unfreeze audit event this secret postdates: a newer one retires it.
    freeze_event_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentCodeCharge(Base):
    """A merchant's charge of a scanned code: the code's single use, and its order.

    ``pending`` waits for the user's payment password (above the no-PIN daily limit),
    ``succeeded`` is paid (``payment_id`` set).
    """

    __tablename__ = "payment_code_charges"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded')", name="status_known"),
        CheckConstraint("auth IN ('none', 'pin')", name="auth_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("counter >= 0 AND counter < 10", name="counter_range"),
        UniqueConstraint(
            "user_id", "step", "counter", name="uq_payment_code_charges_user_id_step_counter"
        ),
        Index("ix_payment_code_charges_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.id"), unique=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    step: Mapped[int] = mapped_column(BigInteger)
    counter: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10))
    auth: Mapped[str | None] = mapped_column(String(4))
    payment_id: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordFreeSetting(Base):
    """A user's choice of paying small amounts without the payment password (off by default).

    No row means off. The daily total and count without the PIN are the spending policy's
    (``daily_no_pin``), not the user's; the user only picks the cap of one payment.
    """

    __tablename__ = "password_free_settings"
    __table_args__ = (CheckConstraint("per_payment_cap > 0", name="cap_positive"),)

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    per_payment_cap: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentCodeGuard(Base):
    """Failed payment-code look-ups of one subject (a merchant's key, or one terminal of
    it) in the current window, and the cool-down they started (docs/payment-code.md).

    Failures are counted by a conditional ``UPDATE`` on this row, so parallel guesses take
    turns on it and never get more look-ups than the budget."""

    __tablename__ = "payment_code_guards"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    subject: Mapped[str] = mapped_column(String(120), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CodeFundingSource(StrEnum):
    """Where a payment-code charge's money comes from (docs/payment-code.md, "Funding")."""

    BALANCE_FIRST = "balance_first"  # the balance; when short, the card pays the rest
    CARD = "card"  # all of it from the chosen card


class PaymentCodeFunding(Base):
    """A user's choice of the payment code's source. No row: ``balance_first`` with the
    user's newest active card (the default card) for what the balance lacks."""

    __tablename__ = "payment_code_funding"
    __table_args__ = (
        CheckConstraint("source IN ('balance_first', 'card')", name="source_known"),
        CheckConstraint("source = 'balance_first' OR card_id IS NOT NULL", name="card_named"),
    )

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    card_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("cards.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
