"""Payment links: a merchant's long-lived link (and QR code) that makes an order when opened.

A link names its merchant, a subject and either a fixed amount or none (the payer types
it). ``token`` is the unguessable part of the URL (``/l/<token>``); it is not a credential
(the link is meant to be printed and shared), so it is stored as it is. ``uses`` counts the
orders the link has made and never passes ``max_uses``: it grows by a conditional
``UPDATE`` in the unit that writes the order.

This module also declares the index the merchant order list reads
(``ix_orders_merchant_id_created_at_id``), added with the payment links in migration 0027.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime
from ewallet.models.payments import Order


class PaymentLinkStatus(StrEnum):
    """``payment_links.status``; ``expired`` and ``used_up`` are never stored: a link past its
    ``expires_at`` or at ``max_uses`` is shown so."""

    ACTIVE = "active"
    DISABLED = "disabled"
    EXPIRED = "expired"
    USED_UP = "used_up"


class PaymentLink(Base):
    __tablename__ = "payment_links"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("max_uses IS NULL OR max_uses > 0", name="max_uses_positive"),
        CheckConstraint("uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="uses_within"),
        Index("ix_payment_links_merchant_id_created_at_id", "merchant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # None: an open amount, typed by the payer.
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    subject: Mapped[str] = mapped_column(String(128))
    out_trade_prefix: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The merchant order list (newest first, per merchant) pages on this index. It belongs with
# ``orders`` in models/payments.py; declared here with the migration that adds it.
ORDERS_BY_MERCHANT = Index(
    "ix_orders_merchant_id_created_at_id",
    Order.__table__.c.merchant_id,
    Order.__table__.c.created_at,
    Order.__table__.c.id,
)
