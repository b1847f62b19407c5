"""Stored first responses of money-moving HTTP requests (API.md, Idempotency-Key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime
from ewallet.kit.db.types import JSONDocument


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key", name="scope_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # Who sent the key (user, merchant, staff or anonymous client): keys never collide across them.
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    request_hash: Mapped[str] = mapped_column(String(64))
    # in_progress while the first request runs; completed once its response is stored.
    state: Mapped[str] = mapped_column(String(12))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A crashed first request frees the key after this moment.
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
