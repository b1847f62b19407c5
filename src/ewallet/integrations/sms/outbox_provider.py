"""The development SMS adapter: messages are kept in ``sms_messages``, never sent.

Developers and tests read them with ``ewallet dev outbox`` (or the staff console). It is
refused when ``EWALLET_ENV=production``, at start-up, so a misconfigured production never
swallows real users' codes. Storing is idempotent by outbox event id (a unique column): a
redelivered event is not kept twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Environment, Settings
from ewallet.integrations.sms.port import OutgoingSms, SmsConfigurationError
from ewallet.kit.clock import Clock, SystemClock
from ewallet.kit.db.engine import is_sqlite, make_engine
from ewallet.models.tables import sms_messages


class OutboxSmsSender:
    """Stores each message; ``engine`` None makes a short-lived engine per message."""

    def __init__(
        self, settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
    ) -> None:
        if settings.env is Environment.PRODUCTION:
            raise SmsConfigurationError(
                "EWALLET_SMS_PROVIDER=outbox only captures messages and is refused in "
                "production; set EWALLET_SMS_PROVIDER=http and EWALLET_SMS_HTTP_URL"
            )
        self._settings = settings
        self._engine = engine
        self._clock = clock or SystemClock()

    async def send(self, message: OutgoingSms) -> None:
        if self._engine is not None:
            await self._store(self._engine, message)
            return
        # The stand-alone worker has no engine to lend: development throughput is tiny,
        # so a connection per message beats an engine nobody would dispose.
        engine = make_engine(self._settings.database_url, pool_size=1)
        try:
            await self._store(engine, message)
        finally:
            await engine.dispose()

    async def _store(self, engine: AsyncEngine, message: OutgoingSms) -> None:
        values: dict[str, Any] = {
            "recipient": message.to,
            "sender": message.sender,
            "body": message.body,
            "code": message.code,
            "event_id": message.event_id,
            "created_at": self._clock.now(),
        }
        dialect_insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
        statement = (
            dialect_insert(sms_messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        async with engine.begin() as connection:
            await connection.execute(statement)
