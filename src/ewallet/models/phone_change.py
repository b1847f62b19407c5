"""Phone number changes reviewed by staff, for owners who lost the old number.

A change made with both SMS codes needs no row: it happens in one unit and leaves its
audit events. A change asked for without the old number waits here for a support agent
or a risk officer. At most one request per user is ``pending`` (a partial unique index),
so two requests cannot race each other to two different numbers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class PhoneChangeState(StrEnum):
    """``phone_change_requests.state``: a request waits, then is approved or rejected once."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PhoneChangeRequest(Base):
    """A reviewed phone change: who asks, from which number to which, and the decision."""

    __tablename__ = "phone_change_requests"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'rejected')", name="state_known"),
        CheckConstraint("old_phone <> new_phone", name="phone_differs"),
        Index(
            "uq_phone_change_requests_one_pending",
            "user_id",
            unique=True,
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_phone_change_requests_state_created_at", "state", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # pcr_…
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), index=True)
    old_phone: Mapped[str] = mapped_column(String(20))  # E.164, the number when asked
    new_phone: Mapped[str] = mapped_column(String(20))  # E.164, proven by its SMS code
    state: Mapped[str] = mapped_column(String(10))  # PhoneChangeState
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The staff member's id; NULL with a decision: superseded by the owner's own change.
    decided_by: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
