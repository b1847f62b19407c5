"""Agent presence: one row per connected agent socket, kept fresh by heartbeats.

Presence decides where a customer who asks for a human goes: to the queue while an agent
is online, else straight to a ticket. When the last agent leaves, the chats still waiting
would wait for nobody, so each becomes a ticket at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.chat import repository as repo
from ewallet.chat.bus import QUEUE_TOPIC
from ewallet.chat.closing import close_for_no_agent
from ewallet.chat.common import topics_of
from ewallet.config import Settings
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.support_chat import SupportAgentPresence

# Waiting chats turned into tickets at once when the last agent leaves.
MAX_STRANDED = 500


async def agent_connected(engine: AsyncEngine, *, clock: Clock, staff_id: str) -> str:
    connection_id = new_id("apc")

    async def work(uow: UnitOfWork) -> str:
        now = clock.now()
        uow.session.add(
            SupportAgentPresence(
                connection_id=connection_id, staff_id=staff_id, connected_at=now, last_seen_at=now
            )
        )
        await uow.session.flush()
        return connection_id

    return await run_unit(engine, work)


async def agent_heartbeat(
    engine: AsyncEngine, *, clock: Clock, staff_id: str, connection_id: str
) -> None:
    async def work(uow: UnitOfWork) -> None:
        now = clock.now()
        if await repo.touch_presence(uow.session, connection_id, now=now) == 0:
            # Swept away meanwhile (a long pause): the socket is still here, so count it again.
            uow.session.add(
                SupportAgentPresence(
                    connection_id=connection_id,
                    staff_id=staff_id,
                    connected_at=now,
                    last_seen_at=now,
                )
            )
            await uow.session.flush()

    await run_unit(engine, work)


async def agent_disconnected(
    engine: AsyncEngine, *, clock: Clock, settings: Settings, connection_id: str
) -> frozenset[str]:
    """The agent's socket closed. If that was the last agent, nobody will take the chats
    still waiting: each becomes a ticket (the customer is told its reference) and closes.
    Returns the topics to publish."""

    async def work(uow: UnitOfWork) -> frozenset[str]:
        session = uow.session
        await repo.remove_presence(session, connection_id)
        ttl = timedelta(seconds=settings.support_chat_presence_seconds)
        if await repo.agents_online(session, now=clock.now(), ttl=ttl):
            return frozenset()
        topics: set[str] = set()
        for queued in await repo.waiting_chats(session, limit=MAX_STRANDED):
            chat = await repo.locked_chat(session, queued.id)
            if chat is None or chat.status != "queued":
                continue  # taken or ended meanwhile
            await close_for_no_agent(uow, chat, clock=clock)
            topics |= topics_of(chat, QUEUE_TOPIC)
        return frozenset(topics)

    return await run_unit(engine, work)


async def any_agent_online(engine: AsyncEngine, *, clock: Clock, settings: Settings) -> bool:
    async def work(uow: UnitOfWork) -> bool:
        ttl = timedelta(seconds=settings.support_chat_presence_seconds)
        return await repo.agents_online(uow.session, now=clock.now(), ttl=ttl)

    return await run_unit(engine, work, read_only=True)
