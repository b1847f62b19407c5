"""The people of a merchant who sign in to the merchant portal, and their sessions.

A merchant user belongs to one merchant and has one role: ``owner`` (everything, the
team included), ``manager`` (the day's business, refunds) or ``cashier`` (the till). Owners
and managers sign in with a password and an authenticator code; the authenticator is
enrolled at the first sign-in (``totp_enrolled_at`` is then set), so the one-time password
handed out at creation is never enough on its own. Cashiers sign in with a password.
The TOTP secret is encrypted as staff's (field cipher, bound to the row's id). A session
row lives ``merchant_session_hours`` from sign-in; the portal's cookie names it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class MerchantRole(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    CASHIER = "cashier"


MERCHANT_ROLES: tuple[str, ...] = tuple(role.value for role in MerchantRole)


class MerchantUserStatus(StrEnum):
    """A disabled merchant user cannot sign in, and their sessions end at once."""

    ACTIVE = "active"
    DISABLED = "disabled"


class MerchantUser(Base):
    __tablename__ = "merchant_users"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'manager', 'cashier')", name="role_known"),
        CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
        Index("ix_merchant_users_merchant_id_created_at", "merchant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(32), ForeignKey("merchants.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default=MerchantUserStatus.ACTIVE.value)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MerchantUserSession(Base):
    __tablename__ = "merchant_user_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("merchant_users.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
