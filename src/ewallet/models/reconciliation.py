"""Reconciliation runs and what each found: the wallet's records against the bank's and PSPs'."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # stopped part-way (the bank or a PSP could not be read)


class ReconciliationRun(Base):
    """One comparison of a business day; ``counts`` holds the tallies by category."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'completed', 'failed')", name="status_known"),
        Index("ix_reconciliation_runs_business_day", "business_day"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    business_day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, Beijing time
    status: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(64))  # a staff id, or "cli"
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    notes: Mapped[list[Any]] = mapped_column(JSONDocument)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReconciliationItem(Base):
    """A mismatch, or an item the run settled; matched items are only counted."""

    __tablename__ = "reconciliation_items"
    __table_args__ = (Index("ix_reconciliation_items_run_id", "run_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32), ForeignKey("reconciliation_runs.id"))
    source: Mapped[str] = mapped_column(String(16))  # bank, alipay, wechat_pay
    reference: Mapped[str] = mapped_column(String(120))  # request id / out_trade_no
    category: Mapped[str] = mapped_column(String(40))
    needs_action: Mapped[bool] = mapped_column()
    wallet_amount: Mapped[int | None] = mapped_column(BigInteger)
    external_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    detail: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
