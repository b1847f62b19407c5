"""Who a user is and how the account is protected: users, codes, devices, sessions, challenges."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class UserStatus(StrEnum):
    """``users.status``: money moves only while ``active``; ``closed`` keeps its number."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class CodePurpose(StrEnum):
    """``verification_codes.purpose``: what a texted code proves (bound to it, used once)."""

    REGISTER = "register"
    LOGIN = "login"
    RESET_LOGIN_PASSWORD = "reset_login_password"  # noqa: S105
    RESET_PAYMENT_PASSWORD = "reset_payment_password"  # noqa: S105
    CHANGE_PHONE = "change_phone"
    STEP_UP = "step_up"
    FREEZE = "freeze"
    BIND_CARD = "bind_card"
    PHONE_CHANGE_OLD = "phone_change_old"  # the account's number, when changing it
    UNFREEZE = "unfreeze"
    ACCOUNT_CLOSURE = "account_closure"


class SessionEndReason(StrEnum):
    """``auth_sessions.revoked_reason``: why a session stopped working."""

    REPLACED = "replaced"  # the device signed in again
    SIGNED_OUT = "signed_out"
    DEVICE_SIGNED_OUT = "device_signed_out"
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    LOGIN_PASSWORD_RESET = "login_password_reset"  # noqa: S105
    ACCOUNT_FROZEN = "account_frozen"
    PHONE_CHANGED = "phone_changed"
    ACCOUNT_CLOSED = "account_closed"


class StepUpMethod(StrEnum):
    """An entry of ``step_up_challenges.methods``: how a challenge may be proven."""

    SMS = "sms"
    TOTP = "totp"


SIGN_IN_CHALLENGE = "sign_in"  # ``step_up_challenges.purpose`` of a new device's sign-in


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'frozen', 'closed')", name="status_known"),
        CheckConstraint("tier IN (1, 2, 3)", name="tier_known"),
        # One account per ID number; most users have none yet, and a partial index skips them.
        Index(
            "uq_users_id_number_digest",
            "id_number_digest",
            unique=True,
            postgresql_where=text("id_number_digest IS NOT NULL"),
            sqlite_where=text("id_number_digest IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    status: Mapped[str] = mapped_column(String(10), default="active")
    # Account class I (phone only), II (real name), III (real name and a bound card).
    tier: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    nickname: Mapped[str | None] = mapped_column(String(40))
    login_password_hash: Mapped[str] = mapped_column(String(200))
    login_password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Keyed digests of each 6-digit window of the login password's digits, so a PIN can be
    # refused for equalling them (ewallet.identity.login_digits); NULL: not known yet.
    login_password_digit_digests: Mapped[list[str] | None] = mapped_column(JSONDocument)
    login_failures: Mapped[int] = mapped_column(Integer, default=0)
    login_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_password_hash: Mapped[str | None] = mapped_column(String(200))
    payment_failures: Mapped[int] = mapped_column(Integer, default=0)
    payment_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # PIN checks reserved and not yet settled; with ``payment_failures`` they never exceed the
    # attempt budget. ``payment_checks_since`` (the latest reservation) lets a count left by a
    # process that died mid-check expire.
    payment_checks_in_flight: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0")
    )
    payment_checks_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    anti_phishing_code: Mapped[str | None] = mapped_column(String(16))
    # Real-name verification: encrypted at rest, masked for display, keyed digest for lookups.
    real_name_encrypted: Mapped[str | None] = mapped_column(Text)
    real_name_masked: Mapped[str | None] = mapped_column(String(40))
    id_number_encrypted: Mapped[str | None] = mapped_column(Text)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))
    id_number_digest: Mapped[str | None] = mapped_column(String(64))
    identity_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP: secret encrypted; the last accepted time step, so no code is accepted twice.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    frozen_by: Mapped[str | None] = mapped_column(String(40))  # "self", "staff:<id>", "risk"
    frozen_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerificationCode(Base):
    """A 6-digit SMS code, stored hashed, bound to a phone and a purpose, used once."""

    __tablename__ = "verification_codes"
    __table_args__ = (
        Index("ix_verification_codes_phone_purpose", "phone", "purpose", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when proven (used) or killed (too many wrong entries, or a newer code was sent).
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_ip: Mapped[str | None] = mapped_column(String(64))


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("user_id", "device_key", name="user_device"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    device_key: Mapped[str] = mapped_column(String(128))  # the client's own device id
    label: Mapped[str | None] = mapped_column(String(120))
    trusted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthSession(Base):
    """One signed-in device: access tokens name it; refresh tokens rotate within it."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("devices.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    """Refresh tokens of a session (its family), stored hashed; a used one must not return."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), ForeignKey("auth_sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StepUpChallenge(Base):
    """A pending proof (SMS code or TOTP) that a risky action or a new device must pass."""

    __tablename__ = "step_up_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    methods: Mapped[list[str]] = mapped_column(JSONDocument)
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TotpRecoveryCode(Base):
    __tablename__ = "totp_recovery_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notification(Base):
    """An in-app notice; ``kind`` and ``params`` render in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_security: Mapped[bool] = mapped_column(Boolean, default=False)
