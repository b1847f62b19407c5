"""Risk alerts: something a risk officer should look at, raised by the code that saw it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class RiskAlert(Base):
    """One alert: its kind, what it is about and the facts, written with the change that
    raised it (a rolled-back refusal raises nothing)."""

    __tablename__ = "risk_alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(120), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
