"""Fair assignment of tickets to support agents, with a per-agent limit and a queue.

The agent with the fewest active tickets (new, open, pending on the customer) gets the next
one; among equals, the one who least recently received a ticket (round robin). An agent at
the limit gets none: the ticket waits unassigned. Every assignment goes through
:func:`dispatch_queue`, most urgent and oldest first -- when a ticket opens or is reopened,
and whenever one is resolved, closed or moved (a place may have come free).

Every choice happens with all agents' state rows locked in id order (``FOR UPDATE`` on
PostgreSQL; SQLite's single writer), so two tickets opened at once cannot both take an
agent's last free place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.operations import Staff
from ewallet.models.support import SupportTicket
from ewallet.models.tables import support_agent_states as agent_states
from ewallet.support.policy import SupportPolicy

ACTIVE_STATUSES = ("new", "open", "pending_customer")
AGENT_ROLE = "support_agent"
PRIORITY_ORDER = case(
    {"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=SupportTicket.priority, else_=4
)


@dataclass(slots=True)
class AgentLoad:
    staff_id: str
    active: int
    last_assigned_seq: int


async def agent_loads(uow: UnitOfWork) -> list[AgentLoad]:
    """Lock every active agent's state row (id order) and return their current loads."""
    session = uow.session
    agent_ids = list(
        (
            await session.execute(
                select(Staff.id)
                .where(Staff.role == AGENT_ROLE, Staff.status == "active")
                .order_by(Staff.id)
            )
        ).scalars()
    )
    if not agent_ids:
        return []
    await _ensure_states(session, agent_ids, sqlite_dialect=uow.is_sqlite)
    states = (
        await session.execute(
            select(agent_states.c.staff_id, agent_states.c.last_assigned_seq)
            .where(agent_states.c.staff_id.in_(agent_ids))
            .order_by(agent_states.c.staff_id)
            .with_for_update()
        )
    ).all()
    count_rows = await session.execute(
        select(SupportTicket.assignee_id, func.count())
        .where(
            SupportTicket.assignee_id.in_(agent_ids),
            SupportTicket.status.in_(ACTIVE_STATUSES),
        )
        .group_by(SupportTicket.assignee_id)
    )
    counts = {str(staff_id): int(active) for staff_id, active in count_rows}
    return [
        AgentLoad(row.staff_id, int(counts.get(row.staff_id, 0)), int(row.last_assigned_seq))
        for row in states
    ]


async def _ensure_states(
    session: AsyncSession, agent_ids: list[str], *, sqlite_dialect: bool
) -> None:
    dialect_insert = sqlite.insert if sqlite_dialect else postgresql.insert
    await session.execute(
        dialect_insert(agent_states)
        .values([{"staff_id": staff_id, "last_assigned_seq": 0} for staff_id in agent_ids])
        .on_conflict_do_nothing(index_elements=["staff_id"])
    )


def pick_agent(loads: list[AgentLoad], *, limit: int) -> AgentLoad | None:
    """Fewest active tickets first, then the longest since the last assignment, then by id."""
    candidates = [load for load in loads if load.active < limit]
    if not candidates:
        return None
    return min(candidates, key=lambda load: (load.active, load.last_assigned_seq, load.staff_id))


async def _give(
    uow: UnitOfWork, *, clock: Clock, ticket_id: str, agent: AgentLoad, loads: list[AgentLoad]
) -> None:
    now = clock.now()
    sequence = max(load.last_assigned_seq for load in loads) + 1
    await uow.session.execute(
        update(SupportTicket)
        .where(SupportTicket.id == ticket_id)
        .values(assignee_id=agent.staff_id, assigned_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    await uow.session.execute(
        update(agent_states)
        .where(agent_states.c.staff_id == agent.staff_id)
        .values(last_assigned_seq=sequence, last_assigned_at=now)
    )
    agent.active += 1
    agent.last_assigned_seq = sequence


async def dispatch_queue(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy
) -> list[tuple[str, str]]:
    """Assign waiting tickets while agents have room; returns (ticket id, agent id) pairs."""
    loads = await agent_loads(uow)
    if not loads:
        return []
    room = sum(max(policy.agent_max_open_tickets - load.active, 0) for load in loads)
    if room == 0:
        return []
    waiting = list(
        (
            await uow.session.execute(
                select(SupportTicket.id)
                .where(
                    SupportTicket.assignee_id.is_(None),
                    SupportTicket.status.in_(ACTIVE_STATUSES),
                )
                .order_by(PRIORITY_ORDER, SupportTicket.created_at, SupportTicket.id)
                .limit(room)
            )
        ).scalars()
    )
    assigned: list[tuple[str, str]] = []
    for ticket_id in waiting:
        agent = pick_agent(loads, limit=policy.agent_max_open_tickets)
        if agent is None:
            break
        await _give(uow, clock=clock, ticket_id=ticket_id, agent=agent, loads=loads)
        assigned.append((ticket_id, agent.staff_id))
    return assigned
