"""A merchant's stores and the static QR codes (收款码) printed for the merchant and each store.

A static QR code is a long-lived, unguessable token; the printed QR holds the wallet's URL
``/pay/qr/<token>``. Each holder (the merchant itself, or one of its stores) has at most one
*active* code, enforced by a partial unique index on ``holder``: regenerating retires the old
row (it then answers ``not_found``) and inserts a new one in the same unit. Rows are never
deleted, so a payment's order can always be traced to the code printed at the time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class StoreStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class StaticQrStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"  # regenerated: the printed code no longer pays


class MerchantStore(Base):
    __tablename__ = "merchant_stores"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
        Index("ix_merchant_stores_merchant_id_created_at", "merchant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaticQrCode(Base):
    __tablename__ = "static_qr_codes"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'retired')", name="status_known"),
        CheckConstraint("fixed_amount IS NULL OR fixed_amount > 0", name="fixed_amount_positive"),
        # One active code per holder (the merchant's id, or the store's).
        Index(
            "uq_static_qr_codes_holder_active",
            "holder",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index("ix_static_qr_codes_merchant_id", "merchant_id"),
    )

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    store_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("merchant_stores.id"))
    holder: Mapped[str] = mapped_column(String(32))  # store_id, or merchant_id for its own code
    fixed_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
