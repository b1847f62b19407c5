"""Merchants that take wallet payments, their API keys, and the log of webhooks sent to them.

A merchant has up to ten active API keys (``merchant_api_keys``), each with a label. A key
is ``mk_<key_id>_<secret>``: the ``key_id`` is the key row's primary key, a keyed digest
of the whole key proves it; the key itself is never stored. A revoked key keeps its row
(``revoked_at``, ``revoked_by``), so the list shows what was revoked, when and by whom.
``last_used_on`` is the Asia/Shanghai day the key last authenticated a request, written at
most once a day per key. The webhook secret must be recoverable to sign each delivery, so
it is kept encrypted (AES-GCM, field cipher).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime


class MerchantStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Merchant(Base):
    __tablename__ = "merchants"
    __table_args__ = (CheckConstraint("status IN ('active', 'disabled')", name="status_known"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    accepts_wallet: Mapped[bool] = mapped_column(Boolean)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret_encrypted: Mapped[str] = mapped_column(String(400))
    # The merchant's own fee terms (basis points, minimum in fen); None: the defaults.
    fee_rate_bp: Mapped[int | None] = mapped_column(Integer)
    fee_minimum: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MerchantApiKey(Base):
    """One API key of a merchant: active until ``revoked_at`` is set (never deleted)."""

    __tablename__ = "merchant_api_keys"
    __table_args__ = (
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL)", name="revocation_has_an_actor"
        ),
    )

    # The key's public part (16 hex characters): what authenticating looks up.
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who made or revoked it, as ``<actor type>:<actor id>`` (``system`` alone for none).
    created_by: Mapped[str] = mapped_column(String(80))
    last_used_on: Mapped[date | None] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(80))


class WebhookDelivery(Base):
    """One attempt to deliver one webhook event: what was answered, or why it failed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_merchant_id_id", "merchant_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    event_id: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    attempt: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
