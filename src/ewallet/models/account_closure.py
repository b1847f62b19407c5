"""Closed accounts (the tombstone of a customer who left) and copies of a user's own data.

A closed account's ``users`` row stays (the ledger, audit chain and history reference it),
but its phone number moves here as a keyed digest so the number can register a new
account: ``users.phone`` becomes a marker no real number can equal. ``erase_after`` is when
the retention period ends; ``erased_at`` when the personal fields were erased.

A data copy (PIPL art. 45) is built by the worker: the JSON and the PDF are stored in the
row itself -- a few hundred kilobytes, kept seven days -- so every process serves the
download without a shared file system.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, UTCDateTime


class ClosedAccount(Base):
    __tablename__ = "closed_accounts"
    __table_args__ = (Index("ix_closed_accounts_erase_after", "erase_after"),)

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Keyed digest of the E.164 number the account had (NULL once erased): lets staff answer
    # "did this number have an account?" during the retention period, never reveals it.
    phone_digest: Mapped[str | None] = mapped_column(String(64))
    erase_after: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DataCopyStatus(StrEnum):
    """``data_copies.status``: requested, then ready (or failed); expired rows answer 410."""

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class DataCopy(Base):
    __tablename__ = "data_copies"
    __table_args__ = (
        CheckConstraint("status IN ('building', 'ready', 'failed')", name="status_known"),
        Index("ix_data_copies_user_id_requested_at", "user_id", "requested_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    json_document: Mapped[str | None] = mapped_column(Text)
    pdf_document: Mapped[bytes | None] = mapped_column(LargeBinary)
