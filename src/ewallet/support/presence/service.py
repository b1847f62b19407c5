"""Agent presence: one row per connected agent socket, kept fresh by heartbeats.

A row not seen for ``support_chat_presence_seconds`` counts as gone, so a crashed process
never leaves an agent "online". Presence decides where a customer who asks for a human goes
(the chat's queue, or a ticket) and what ``GET /v1/help/contact`` says; what happens to
waiting chats when the last agent leaves is the chat's business
(:func:`ewallet.chat.service.agent.agent_disconnected`).
"""

from __future__ import annotations

from datetime import timedelta

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.support_chat import SupportAgentPresence
from ewallet.services import Services
from ewallet.support.presence import repository as repo


def _connection(services: Services, connection_id: str, staff_id: str) -> SupportAgentPresence:
    now = services.clock.now()
    return SupportAgentPresence(
        connection_id=connection_id, staff_id=staff_id, connected_at=now, last_seen_at=now
    )


async def agent_connected(services: Services, staff_id: str) -> str:
    """An agent's socket opened; returns its connection id (for heartbeats and leaving)."""
    connection_id = new_id("apc")

    async def work(uow: UnitOfWork) -> str:
        await repo.add(uow.session, _connection(services, connection_id, staff_id))
        return connection_id

    return await run_unit(services.engine, work)


async def agent_heartbeat(services: Services, staff_id: str, *, connection_id: str) -> None:
    """The socket is still there: seen now (counted again if it was swept away meanwhile)."""

    async def work(uow: UnitOfWork) -> None:
        if await repo.touch(uow.session, connection_id, now=services.clock.now()) == 0:
            await repo.add(uow.session, _connection(services, connection_id, staff_id))

    await run_unit(services.engine, work)


async def agents_online_in(services: Services, uow: UnitOfWork) -> bool:
    """Is any agent connected (seen within the presence window)? In the caller's unit."""
    ttl = timedelta(seconds=services.settings.support_chat_presence_seconds)
    return await repo.any_seen_since(uow.session, services.clock.now() - ttl)


async def leave_in(uow: UnitOfWork, *, connection_id: str) -> None:
    """The agent's socket closed: its row goes, in the caller's unit."""
    await repo.remove(uow.session, connection_id)


async def any_agent_online(services: Services) -> bool:
    """Is any agent connected to answer chats right now?"""

    async def work(uow: UnitOfWork) -> bool:
        return await agents_online_in(services, uow)

    return await run_unit(services.engine, work, read_only=True)
