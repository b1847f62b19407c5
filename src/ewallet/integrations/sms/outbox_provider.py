"""The development SMS adapter: messages are kept in ``sms_messages``, never sent.

Developers and tests read them with ``ewallet dev outbox`` (:func:`captured_sms`) or the
staff console. It is
refused when ``EWALLET_ENV=production``, at start-up, so a misconfigured production never
swallows real users' codes. Storing is idempotent by outbox event id (a unique column): a
redelivered event is not kept twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Environment, Settings
from ewallet.integrations.sms.port import OutgoingSms, SmsConfigurationError
from ewallet.kit.clock import Clock
from ewallet.kit.db.engine import is_sqlite
from ewallet.models.tables import sms_messages


class OutboxSmsSender:
    """Stores each message in ``sms_messages`` through the process's ``engine``."""

    def __init__(self, settings: Settings, *, engine: AsyncEngine, clock: Clock) -> None:
        if settings.env is Environment.PRODUCTION:
            raise SmsConfigurationError(
                "EWALLET_SMS_PROVIDER=outbox only captures messages and is refused in "
                "production; set EWALLET_SMS_PROVIDER=http and EWALLET_SMS_HTTP_URL"
            )
        self._engine = engine
        self._clock = clock

    async def send(self, message: OutgoingSms) -> None:
        values: dict[str, Any] = {
            "recipient": message.to,
            "sender": message.sender,
            "body": message.body,
            "code": message.code,
            "event_id": message.event_id,
            "created_at": self._clock.now(),
        }
        dialect_insert = sqlite.insert if is_sqlite(self._engine) else postgresql.insert
        statement = (
            dialect_insert(sms_messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)


@dataclass(frozen=True, slots=True)
class CapturedSms:
    """One message the development adapter kept."""

    to: str  # E.164
    sender: str
    body: str
    code: str | None
    created_at: datetime


async def captured_sms(
    engine: AsyncEngine, *, phone: str | None = None, limit: int = 100
) -> list[CapturedSms]:
    """The newest ``limit`` kept messages (to ``phone``, an E.164 number), oldest first."""
    statement = select(sms_messages).order_by(sms_messages.c.id.desc()).limit(limit)
    if phone is not None:
        statement = statement.where(sms_messages.c.recipient == phone)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [
        CapturedSms(
            to=row.recipient,
            sender=row.sender,
            body=row.body,
            code=row.code,
            created_at=row.created_at,
        )
        for row in reversed(rows)
    ]
