"""Staff, their sessions and authenticator resets, maintenance windows and the hash-chained
audit log with its verification checkpoint."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class StaffRole(StrEnum):
    """What a staff member may do (admins pass every role check)."""

    ADMIN = "admin"
    SUPPORT_AGENT = "support_agent"
    TELLER = "teller"
    TELLER_SUPERVISOR = "teller_supervisor"
    RISK_OFFICER = "risk_officer"
    OPERATOR = "operator"


STAFF_ROLES: tuple[str, ...] = tuple(role.value for role in StaffRole)


class StaffStatus(StrEnum):
    """A disabled staff member cannot sign in, and their sessions end at once."""

    ACTIVE = "active"
    DISABLED = "disabled"


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'support_agent', 'teller', 'teller_supervisor', "
            "'risk_officer', 'operator')",
            name="role_known",
        ),
        CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str | None] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    totp_secret_encrypted: Mapped[str] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default=StaffStatus.ACTIVE.value)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TotpResetStatus(StrEnum):
    """A pending reset past its ``expires_at`` reads as expired (nothing rewrites it)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class StaffTotpReset(Base):
    """One admin asks for a staff member's authenticator to be replaced; another approves."""

    __tablename__ = "staff_totp_resets"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(32), ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(String(200))


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(32), ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # A subject's events of some actions (a customer's security events among the many
        # staff looks at them); its first column serves every look-up by subject.
        Index("ix_audit_events_subject_id_action", "subject_id", "action"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_type: Mapped[str] = mapped_column(String(10))  # user, staff, system, merchant
    actor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """One row: the newest audit hash. Appenders lock it, so the chain never forks."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditChainCheckpoint(Base):
    """One row (id 1, made on first use): how far the chain was last verified, so the
    console's status re-hashes only the events after it (``ewallet.audit.checkpoint``)."""

    __tablename__ = "audit_chain_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verified_event_id: Mapped[int] = mapped_column(Integer)
    verified_hash: Mapped[str] = mapped_column(String(64))
    verified_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    broken_event_id: Mapped[int | None] = mapped_column(Integer)
