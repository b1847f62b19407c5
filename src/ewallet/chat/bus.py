"""Wake-up calls between the chat sockets of one or many API processes.

The bus carries topics, never content: ``chat.<id>`` (something happened in that chat),
``queue`` (the waiting line moved), ``agent.<staff id>`` (a chat was given to that agent or
taken from them) and ``presence`` (an agent connected, left, stepped away or came back).
A socket that hears its topic reads the database, where the chat really lives, so a lost or
duplicated notice costs nothing but a read; sockets also re-read on a timer
(``support_chat_heartbeat_seconds``) in case a notice never came.

Two transports: :class:`MemoryBus` for the single-process embedded default, and
:class:`PostgresBus` (LISTEN/NOTIFY on one channel) so a customer and an agent connected
to different API processes hear each other. PostgreSQL was chosen over Redis because the
chat state is in PostgreSQL anyway: no second service to run, and no notice can arrive
before the change it announces has committed (notices are sent after commit).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any, Final, Protocol

import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings

CHANNEL: Final = "ewallet_chat"
QUEUE_TOPIC: Final = "queue"
PRESENCE_TOPIC: Final = "presence"
RECONNECT_SECONDS: Final = 1.0

log = structlog.get_logger(__name__)


def chat_topic(chat_id: str) -> str:
    return f"chat.{chat_id}"


def agent_topic(staff_id: str) -> str:
    return f"agent.{staff_id}"


class ChatBus(Protocol):
    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    async def publish(self, topics: Iterable[str]) -> None: ...

    def subscribe(self, topics: Iterable[str]) -> Subscription: ...


class Subscription:
    """The topics one socket follows; :meth:`wait` returns the topics heard since last time."""

    def __init__(self, hub: _Hub, topics: Iterable[str]) -> None:
        self._hub = hub
        self.topics: set[str] = set(topics)
        self._heard: asyncio.Queue[str] = asyncio.Queue()

    def follow(self, topic: str) -> None:
        self.topics.add(topic)

    def forget(self, topic: str) -> None:
        self.topics.discard(topic)

    def heard(self, topic: str) -> None:
        if topic in self.topics:
            self._heard.put_nowait(topic)

    async def wait(self, seconds: float) -> set[str]:
        """Topics heard, waiting at most ``seconds`` for the first (empty: the timer ran out)."""
        heard: set[str] = set()
        with contextlib.suppress(TimeoutError):
            heard.add(await asyncio.wait_for(self._heard.get(), seconds))
        while not self._heard.empty():
            heard.add(self._heard.get_nowait())
        return heard

    def close(self) -> None:
        self._hub.remove(self)


class _Hub:
    """The subscriptions of this process, each told about every topic it follows."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(self, topics)
        self._subscriptions.add(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def deliver(self, topic: str) -> None:
        for subscription in list(self._subscriptions):
            subscription.heard(topic)


class MemoryBus:
    """One process: publishing is delivering."""

    def __init__(self) -> None:
        self._hub = _Hub()

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def publish(self, topics: Iterable[str]) -> None:
        for topic in set(topics):
            self._hub.deliver(topic)

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        return self._hub.subscribe(topics)


def asyncpg_dsn(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresBus:
    """LISTEN on one dedicated connection per process; NOTIFY through the app's engine."""

    def __init__(self, engine: AsyncEngine, database_url: str) -> None:
        self._engine = engine
        self._dsn = asyncpg_dsn(database_url)
        self._hub = _Hub()
        self._connection: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        try:
            await self._listen()
        except (OSError, asyncpg.PostgresError) as error:
            # The API still starts (``/readyz`` reports the database); the keeper retries.
            log.warning("chat_bus_listen_failed", error=str(error))
        self._keeper = asyncio.create_task(self._keep_listening())

    async def _listen(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        await connection.add_listener(CHANNEL, self._on_notice)
        self._connection = connection

    def _on_notice(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        self._hub.deliver(str(payload))

    async def _keep_listening(self) -> None:
        """Reconnect a dropped listener; sockets re-read on their timer meanwhile."""
        while not self._closing:
            await asyncio.sleep(RECONNECT_SECONDS)
            if self._connection is not None and not self._connection.is_closed():
                continue
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("chat_bus_reconnect_failed", error=str(error))

    async def aclose(self) -> None:
        self._closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()

    async def publish(self, topics: Iterable[str]) -> None:
        unique = sorted(set(topics))
        if not unique:
            return
        async with self._engine.begin() as conn:
            for topic in unique:
                await conn.execute(
                    text("SELECT pg_notify(:channel, :topic)"),
                    {"channel": CHANNEL, "topic": topic},
                )

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        return self._hub.subscribe(topics)


def make_bus(settings: Settings, engine: AsyncEngine) -> ChatBus:
    choice = settings.support_chat_bus
    on_postgres = make_url(settings.database_url).get_backend_name() == "postgresql"
    if choice == "postgres" or (choice == "auto" and on_postgres):
        return PostgresBus(engine, settings.database_url)
    return MemoryBus()
