"""Merchant orders, the wallet payments that settle them, and refunds of those payments.

An order is paid at most once: ``status`` leaves ``awaiting_payment`` by a conditional
``UPDATE`` in the unit that posts the ledger entry. Refund totals are kept on the payment
row, which every refund locks, so parallel refunds can never exceed what was paid.

A payment risk control holds for review (docs/risk-review.md) is not a payment yet: it
waits in ``held_payments`` (its amount on a ledger hold, its order ``under_review``) and
becomes a ``payments`` row only when a risk officer approves it. Everything that reads
``payments`` -- refunds, settlement, reconciliation, statements, exports -- so only ever
sees money that moved.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class OrderStatus(StrEnum):
    """``orders.status``; ``expired`` is never stored: an order awaiting payment past its
    ``expires_at`` is shown so (payments/views.py)."""

    AWAITING_PAYMENT = "awaiting_payment"
    # Its payment waits for a risk officer (held_payments); it never expires meanwhile.
    UNDER_REVIEW = "under_review"
    PAID = "paid"
    REFUNDED = "refunded"
    CLOSED = "closed"
    EXPIRED = "expired"


class PaymentStatus(StrEnum):
    """A payment's status as the API shows it, from its refunded total (not stored)."""

    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    # A held payment (``held_payments``) waiting for a risk officer, or one they rejected.
    UNDER_REVIEW = "under_review"
    REJECTED = "rejected"


class HeldPaymentState(StrEnum):
    """``held_payments.state``: waiting, or how the risk officer decided."""

    UNDER_REVIEW = "under_review"
    APPROVED = "approved"  # the payments row with this id exists from then on
    REJECTED = "rejected"


class RefundStatus(StrEnum):
    # Refunds post at once (one balanced entry), so the only status today is succeeded.
    SUCCEEDED = "succeeded"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('awaiting_payment', 'under_review', 'paid', 'refunded', 'closed')",
            name="status_known",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("merchant_id", "out_trade_no", name="uq_orders_merchant_id_out_trade_no"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    out_trade_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    subject: Mapped[str] = mapped_column(String(128))
    notify_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    # What the merchant asked for, hashed: the same out_trade_no again must ask the same.
    request_hash: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[str | None] = mapped_column(String(32))
    # A card-funded payment (card_payments.id) waiting for the bank: no one else may pay it.
    reserved_by: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount", name="refunds_within_amount"
        ),
        Index("ix_payments_user_id_created_at", "user_id", "created_at"),
        Index("uq_payments_user_id_request_key", "user_id", "request_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.id"), unique=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    ledger_transaction_id: Mapped[str] = mapped_column(String(32))
    # The merchant's fee taken when it settled, and the part of it refunds returned so far
    # (payments/fees.py); both 0 on payments made before fees existed.
    fee: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    fee_returned: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # The request that paid (kit/request_key.py): a rerun finds it instead of a refusal.
    # None for payments no user request made with a key (merchant charges, checkout form).
    request_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HeldPayment(Base):
    """A payment held for a risk review: the order's amount on a hold wallet -> merchant,
    the fee it will take and the accounts its entry will post between when approved (the
    payment's id, ``payment:<id>``, is the review's subject and the ledger key)."""

    __tablename__ = "held_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("fee >= 0 AND fee <= amount", name="fee_within_amount"),
        CheckConstraint("state IN ('under_review', 'approved', 'rejected')", name="state_known"),
        Index("ix_held_payments_order_id", "order_id"),
        Index("uq_held_payments_user_id_request_key", "user_id", "request_key", unique=True),
    )

    payment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.id"))
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    fee: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20))  # spend channel: payment, static_qr
    auth: Mapped[str] = mapped_column(String(20))  # how the payer authenticated it
    request_key: Mapped[str | None] = mapped_column(String(64))
    hold_id: Mapped[str] = mapped_column(String(32), ForeignKey("ledger_holds.id"))
    review_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("risk_reviews.id"))
    # The ledger accounts the approved entry posts between (fixed when it was held).
    wallet_account_id: Mapped[int] = mapped_column(BigInteger)
    merchant_account_id: Mapped[int] = mapped_column(BigInteger)
    fee_account_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint(
            "merchant_id", "out_refund_no", name="uq_refunds_merchant_id_out_refund_no"
        ),
        Index("ix_refunds_payment_id", "payment_id"),
        # GET /v1/merchant/refunds: a merchant's refunds newest first.
        Index("ix_refunds_merchant_id_created_at_id", "merchant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(32), ForeignKey("payments.id"))
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.id"))
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    out_refund_no: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    ledger_transaction_id: Mapped[str] = mapped_column(String(32))
    # The part of the payment's fee this refund gave back to the merchant (fen).
    fee_returned: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
