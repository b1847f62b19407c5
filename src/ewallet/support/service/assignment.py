"""Fair assignment of tickets to support agents, with a per-agent limit and a queue.

The agent with the fewest active tickets (new, open, pending on the customer) gets the next
one; among equals, the one who least recently received a ticket (round robin). An agent at
the limit gets none: the ticket waits unassigned. Every assignment goes through
:func:`dispatch_queue`, most urgent and oldest first -- when a ticket opens or is reopened,
and whenever one is resolved, closed or moved (a place may have come free).

Every choice happens with all agents' state rows locked in id order (``FOR UPDATE`` on
PostgreSQL; SQLite's single writer), so two tickets opened at once cannot both take an
agent's last free place. Both functions run in the caller's unit of work.
"""

from __future__ import annotations

from typing import Final

from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.operations import StaffRole
from ewallet.services import Services
from ewallet.support import repository as repo
from ewallet.support.policy import SupportPolicy
from ewallet.support.views import AgentLoad, Dispatched

AGENT_ROLE: Final = StaffRole.SUPPORT_AGENT


async def agent_loads(uow: UnitOfWork) -> list[AgentLoad]:
    """Lock every active agent's state row (id order) and return their current loads."""
    agent_ids = await repo.active_agent_ids(uow.session, role=AGENT_ROLE)
    if not agent_ids:
        return []
    states = await repo.locked_agent_states(uow.session, agent_ids, sqlite_dialect=uow.is_sqlite)
    counts = await repo.active_ticket_counts(uow.session, agent_ids)
    return [
        AgentLoad(state.staff_id, counts.get(state.staff_id, 0), state.last_assigned_seq)
        for state in states
    ]


def pick_agent(loads: list[AgentLoad], *, limit: int) -> AgentLoad | None:
    """Fewest active tickets first, then the longest since the last assignment, then by id."""
    candidates = [load for load in loads if load.active < limit]
    if not candidates:
        return None
    return min(candidates, key=lambda load: (load.active, load.last_assigned_seq, load.staff_id))


async def dispatch_queue(services: Services, uow: UnitOfWork) -> list[Dispatched]:
    """Assign waiting tickets while agents have room; returns what went to whom."""
    limit = SupportPolicy.of(services).agent_max_open_tickets
    loads = await agent_loads(uow)
    if not loads:
        return []
    room = sum(max(limit - load.active, 0) for load in loads)
    if room == 0:
        return []
    assigned: list[Dispatched] = []
    for ticket_id in await repo.waiting_ticket_ids(uow.session, limit=room):
        agent = pick_agent(loads, limit=limit)
        if agent is None:
            break
        sequence = max(load.last_assigned_seq for load in loads) + 1
        await repo.give_ticket(
            uow.session,
            ticket_id=ticket_id,
            staff_id=agent.staff_id,
            sequence=sequence,
            now=services.clock.now(),
        )
        agent.active += 1
        agent.last_assigned_seq = sequence
        assigned.append(Dispatched(ticket_id, agent.staff_id))
    return assigned
