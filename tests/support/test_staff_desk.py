"""The staff desk's use cases the console's pages call (``queue_desk``, ``ticket_desk``):
the same queue and ticket as ``/v1/staff/support``, audited the same way, with the agents'
names, the canned replies filled in for the ticket, and the states it may move to."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.errors import NotFoundError
from ewallet.services import Services
from ewallet.support.staff import service as desk
from ewallet.support.views import QueueFilter
from tests.fixtures.staff import audit_actions, insert_user, staff_table
from tests.support.conftest import make_agent
from tests.support.test_ticket_service import open_for, set_status


async def _name(engine: AsyncEngine, staff_id: str, name: str | None) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(staff_table).where(staff_table.c.id == staff_id).values(display_name=name)
        )


async def test_the_queue_desk_names_the_agents_and_is_audited(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, services: Services
) -> None:
    agent = await make_agent(engine, settings, clock)
    admin = await make_agent(engine, settings, clock, role="admin")
    teller = await make_agent(engine, settings, clock, role="teller")
    await _name(engine, agent.id, "Wang Fang")
    user_id = await insert_user(engine, clock)
    mine = await open_for(services, user_id)  # the one agent: dispatched to them
    actor = Actor("staff", agent.id)

    found = await desk.queue_desk(
        services, actor, filters=QueueFilter(assignee="me"), limit=50, cursor=None
    )

    assert [ticket.id for ticket in found.page.items] == [mine]
    assert found.names == {agent.id: "Wang Fang"}
    # Whom a ticket may go to: active support agents and admins, never a teller.
    by_id = {a.staff_id: (a.name, a.role) for a in found.agents}
    assert by_id[agent.id] == ("Wang Fang", "support_agent")
    assert by_id[admin.id][1] == "admin"
    assert teller.id not in by_id
    listed = [a for a in await audit_actions(engine) if a[0] == "support.tickets.listed"]
    assert listed == [("support.tickets.listed", agent.id, "queue")]


async def test_the_ticket_desk_fills_canned_replies_and_offers_next_states(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, services: Services
) -> None:
    agent = await make_agent(engine, settings, clock)
    actor = Actor("staff", agent.id)
    user_id = await insert_user(engine, clock)
    ticket_id = await open_for(services, user_id)  # category topup
    general = await desk.create_canned_reply(
        services, actor, title="Thanks", body="About {reference}: {subject}", category=None
    )
    await desk.create_canned_reply(
        services, actor, title="Card help", body="Cards only", category="card"
    )

    found = await desk.ticket_desk(services, actor, ticket_id=ticket_id)

    ticket = found.found.thread.ticket
    assert [(c.id, c.text) for c in found.canned_replies] == [
        (general.id, f"About {ticket.reference}: {ticket.subject}")
    ]
    assert found.next_statuses == ("open", "pending_customer", "resolved", "closed")
    # The assignee (dispatched to the one agent), named by the email without a display name.
    assert list(found.names) == [agent.id]
    assert found.names[agent.id].endswith("@bank.example")
    viewed = [a for a in await audit_actions(engine) if a[0] == "support.ticket.viewed"]
    assert viewed == [("support.ticket.viewed", agent.id, ticket_id)]

    await set_status(services, ticket_id, "closed")
    closed = await desk.ticket_desk(services, actor, ticket_id=ticket_id)
    assert closed.next_statuses == ()

    before = await audit_actions(engine)
    with pytest.raises(NotFoundError):
        await desk.ticket_desk(services, actor, ticket_id="tkt_nothing")
    assert await audit_actions(engine) == before  # a refused look leaves no event
