"""Messages captured by the development outbox providers (SMS now, email later)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ewallet.kit.db.base import Base, BigIntPK, UTCDateTime


class SmsMessage(Base):
    """An SMS the ``outbox`` provider kept instead of sending (development only)."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_recipient_id", "recipient", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    # The verification code it carries, if any, so developers and tests can read it.
    code: Mapped[str | None] = mapped_column(String(12))
    # The outbox event that produced it: a redelivered event is not stored twice.
    event_id: Mapped[int | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
