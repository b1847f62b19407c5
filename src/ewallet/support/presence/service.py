"""Agent presence: one row per connected agent socket, kept fresh by heartbeats.

A row not seen for ``support_chat_presence_seconds`` counts as gone, so a crashed process
never leaves an agent "online". An agent may also be **away**: still connected (their own
chats go on), but offered no new ones; the flag is kept on every row of theirs, and a
socket they open meanwhile starts away too. Only agents connected and not away count as
*online*. Presence decides where a customer who asks for a human goes (the chat's queue,
or a ticket) and what ``GET /v1/help/contact`` says; what happens to waiting chats when the
last online agent leaves or steps away is the chat's business
(:mod:`ewallet.chat.service.agent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.support_chat import SupportAgentPresence
from ewallet.services import Services
from ewallet.support.presence import repository as repo


@dataclass(frozen=True, slots=True)
class AgentPresence:
    """A connected agent: who, and whether they are away (no new chats offered)."""

    staff_id: str
    name: str
    away: bool


def _since(services: Services) -> datetime:
    return services.clock.now() - timedelta(seconds=services.settings.support_chat_presence_seconds)


async def _connection(
    services: Services, uow: UnitOfWork, connection_id: str, staff_id: str
) -> SupportAgentPresence:
    """A new row, away if the agent is away on another socket."""
    now = services.clock.now()
    away = await repo.away_since(uow.session, staff_id, _since(services))
    return SupportAgentPresence(
        connection_id=connection_id,
        staff_id=staff_id,
        connected_at=now,
        last_seen_at=now,
        away=away,
    )


async def agent_connected(services: Services, staff_id: str) -> str:
    """An agent's socket opened; returns its connection id (for heartbeats and leaving)."""
    connection_id = new_id("apc")

    async def work(uow: UnitOfWork) -> str:
        await repo.add(uow.session, await _connection(services, uow, connection_id, staff_id))
        return connection_id

    return await run_unit(services.engine, work)


async def agent_heartbeat(services: Services, staff_id: str, *, connection_id: str) -> None:
    """The socket is still there: seen now (counted again if it was swept away meanwhile)."""

    async def work(uow: UnitOfWork) -> None:
        if await repo.touch(uow.session, connection_id, now=services.clock.now()) == 0:
            await repo.add(uow.session, await _connection(services, uow, connection_id, staff_id))

    await run_unit(services.engine, work)


async def agents_online_in(services: Services, uow: UnitOfWork) -> bool:
    """Is any agent connected (seen within the presence window) and not away? In the
    caller's unit."""
    return await repo.any_available_since(uow.session, _since(services))


async def agent_online_in(services: Services, uow: UnitOfWork, staff_id: str) -> bool:
    """Is this (active) agent connected and not away? In the caller's unit."""
    return await repo.available_since(uow.session, staff_id, _since(services))


async def set_away_in(uow: UnitOfWork, staff_id: str, *, away: bool) -> None:
    """The agent steps away (or comes back) on all their sockets, in the caller's unit."""
    await repo.set_away(uow.session, staff_id, away=away)


async def agents_in(services: Services, uow: UnitOfWork) -> list[AgentPresence]:
    """Every connected agent once (by name), away if they are away; in the caller's unit."""
    found: dict[str, AgentPresence] = {}
    for staff_id, display_name, email, away in await repo.seen_since(uow.session, _since(services)):
        known = found.get(staff_id)
        # Rows of one agent agree, but a socket swept and re-added may lag: online wins.
        found[staff_id] = AgentPresence(
            staff_id=staff_id,
            name=display_name or email,
            away=bool(away) and (known is None or known.away),
        )
    return sorted(found.values(), key=lambda agent: (agent.name.casefold(), agent.staff_id))


async def agents(services: Services) -> list[AgentPresence]:
    """Every connected agent, online or away, by name."""

    async def work(uow: UnitOfWork) -> list[AgentPresence]:
        return await agents_in(services, uow)

    return await run_unit(services.engine, work, read_only=True)


async def leave_in(uow: UnitOfWork, *, connection_id: str) -> None:
    """The agent's socket closed: its row goes, in the caller's unit."""
    await repo.remove(uow.session, connection_id)


async def any_agent_online(services: Services) -> bool:
    """Is any agent connected, and not away, to answer chats right now?"""

    async def work(uow: UnitOfWork) -> bool:
        return await agents_online_in(services, uow)

    return await run_unit(services.engine, work, read_only=True)
