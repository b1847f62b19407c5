"""The ticket service on a real database: states, assignment, SLA and rating."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.models.support import TicketChannel
from ewallet.services import Services
from ewallet.support.errors import (
    TicketAlreadyRatedError,
    TicketClosedError,
    TicketNotResolvedError,
    TicketTransitionError,
)
from ewallet.support.service import assignment, lifecycle, tickets
from ewallet.support.sla import sla_state
from tests.fixtures.staff import insert_user
from tests.fixtures.support import bare_services
from tests.support.conftest import (
    in_unit,
    mail_events,
    make_agent,
    messages_of,
    ticket_row,
)


async def open_for(
    services: Services,
    user_id: str | None,
    *,
    priority: str = "normal",
    email: str | None = None,
) -> str:
    async def work(uow: UnitOfWork) -> str:
        return await tickets.open_ticket(
            services,
            uow,
            user_id=user_id,
            email=email,
            subject="充值没到账",
            body="昨天充值 100 元还没到账",
            channel=TicketChannel.WEB,
            category="topup",
            priority=priority,
            author_id=user_id,
        )

    ticket_id: str = await in_unit(services.engine, work)
    return ticket_id


async def message(services: Services, **kw: Any) -> str:
    async def work(uow: UnitOfWork) -> str:
        return await tickets.add_message(services, uow, **kw)

    message_id: str = await in_unit(services.engine, work)
    return message_id


async def set_status(services: Services, ticket_id: str, status: str) -> None:
    async def work(uow: UnitOfWork) -> None:
        await lifecycle.change_status(services, uow, ticket_id=ticket_id, status=status)

    await in_unit(services.engine, work)


async def test_lifecycle_and_state_rules(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, services: Services
) -> None:
    user_id = await insert_user(engine, clock)
    agent = await make_agent(engine, settings, clock)
    ticket_id = await open_for(services, user_id)
    row = await ticket_row(engine, ticket_id)
    assert (row.status, row.assignee_id, row.channel) == ("new", agent.id, "web")
    assert row.reference.startswith("TKT-")
    assert len(row.reference) == 12
    assert row.first_response_at is None

    # An internal note is no response and changes no state.
    clock.advance(timedelta(minutes=5))
    await message(
        services,
        ticket_id=ticket_id,
        author_type="agent",
        author_id=agent.id,
        body="先查一下银行流水",
        internal=True,
    )
    row = await ticket_row(engine, ticket_id)
    assert (row.status, row.first_response_at) == ("new", None)

    clock.advance(timedelta(minutes=5))
    await message(
        services,
        ticket_id=ticket_id,
        author_type="agent",
        author_id=agent.id,
        body="请提供充值时间",
    )
    row = await ticket_row(engine, ticket_id)
    assert row.status == "pending_customer"
    assert row.first_response_at == clock.now()

    # A second reply does not move the first-response time.
    clock.advance(timedelta(minutes=1))
    await message(
        services,
        ticket_id=ticket_id,
        author_type="agent",
        author_id=agent.id,
        body="还有银行卡后四位",
    )
    assert (await ticket_row(engine, ticket_id)).first_response_at == clock.now() - timedelta(
        minutes=1
    )

    await message(
        services,
        ticket_id=ticket_id,
        author_type="customer",
        author_id=user_id,
        body="下午三点，尾号 1234",
    )
    assert (await ticket_row(engine, ticket_id)).status == "open"

    await set_status(services, ticket_id, "resolved")
    row = await ticket_row(engine, ticket_id)
    assert (row.status, row.resolved_at) == ("resolved", clock.now())

    # The customer writing again reopens a resolved ticket.
    await message(
        services,
        ticket_id=ticket_id,
        author_type="customer",
        author_id=user_id,
        body="还是没到",
    )
    row = await ticket_row(engine, ticket_id)
    assert (row.status, row.resolved_at) == ("open", None)

    await set_status(services, ticket_id, "closed")
    with pytest.raises(TicketClosedError):
        await message(
            services,
            ticket_id=ticket_id,
            author_type="customer",
            author_id=user_id,
            body="?",
        )
    with pytest.raises(TicketClosedError):
        await set_status(services, ticket_id, "open")
    # Internal notes are still allowed on a closed ticket.
    await message(
        services,
        ticket_id=ticket_id,
        author_type="agent",
        author_id=agent.id,
        body="归档",
        internal=True,
    )
    kinds = [(m.author_type, m.internal) for m in await messages_of(engine, ticket_id)]
    assert kinds == [
        ("customer", False),
        ("agent", True),
        ("agent", False),
        ("agent", False),
        ("customer", False),
        ("customer", False),
        ("agent", True),
    ]


async def test_invalid_transition_and_foreign_customer(
    engine: AsyncEngine, clock: FrozenClock, services: Services
) -> None:
    owner = await insert_user(engine, clock)
    stranger = await insert_user(engine, clock)
    ticket_id = await open_for(services, owner)
    with pytest.raises(TicketTransitionError):
        await set_status(services, ticket_id, "new")
    from ewallet.kit.errors import NotFoundError  # noqa: PLC0415

    with pytest.raises(NotFoundError):
        await message(
            services,
            ticket_id=ticket_id,
            author_type="customer",
            author_id=stranger,
            body="让我看看",
        )
    assert len(await messages_of(engine, ticket_id)) == 1


async def test_assignment_is_fair_with_a_limit_and_a_queue(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    services = bare_services(engine, settings, clock, support_agent_max_open_tickets=2)
    user_id = await insert_user(engine, clock)
    first = await make_agent(engine, settings, clock)
    second = await make_agent(engine, settings, clock)
    await make_agent(engine, settings, clock, role="teller")  # never a candidate
    assigned = []
    for _ in range(4):
        clock.advance(timedelta(seconds=1))
        ticket_id = await open_for(services, user_id)
        assigned.append((await ticket_row(engine, ticket_id)).assignee_id)
    # Fewest open first; on a tie whoever waited longest (round robin), never over the limit.
    assert sorted(assigned[:2]) == sorted([first.id, second.id])
    assert assigned[2] == assigned[0]
    assert assigned[3] == assigned[1]

    clock.advance(timedelta(seconds=1))
    queued_normal = await open_for(services, user_id)
    clock.advance(timedelta(seconds=1))
    queued_urgent = await open_for(services, user_id, priority="urgent")
    assert (await ticket_row(engine, queued_normal)).assignee_id is None
    assert (await ticket_row(engine, queued_urgent)).assignee_id is None

    # Resolving one of the first agent's tickets frees a place: the urgent one goes first.
    first_tickets = [i for i, agent in enumerate(assigned) if agent == first.id]
    ids = list(await _ticket_ids(engine))
    await set_status(services, ids[first_tickets[0]], "resolved")
    assert (await ticket_row(engine, queued_urgent)).assignee_id == first.id
    assert (await ticket_row(engine, queued_normal)).assignee_id is None

    # Returning a ticket to the queue hands the place to the next waiting ticket.
    async def unassign(uow: UnitOfWork) -> None:
        await lifecycle.assign_to(services, uow, ticket_id=queued_urgent, staff_id=None)

    await in_unit(engine, unassign)
    assert (await ticket_row(engine, queued_urgent)).assignee_id == first.id  # urgent first again
    assert (await ticket_row(engine, queued_normal)).assignee_id is None

    async def dispatch(uow: UnitOfWork) -> list[tuple[str, str]]:
        done = await assignment.dispatch_queue(services, uow)
        return [(given.ticket_id, given.assignee_id) for given in done]

    assert await in_unit(engine, dispatch) == []  # nobody has room


async def _ticket_ids(engine: AsyncEngine) -> list[str]:
    from sqlalchemy import select  # noqa: PLC0415

    from tests.support.conftest import tickets_table  # noqa: PLC0415

    async with engine.connect() as conn:
        rows = await conn.execute(
            select(tickets_table.c.id).order_by(tickets_table.c.created_at, tickets_table.c.id)
        )
        return [row.id for row in rows]


async def test_without_agents_tickets_wait_until_one_joins(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, services: Services
) -> None:
    user_id = await insert_user(engine, clock)
    ticket_id = await open_for(services, user_id)
    assert (await ticket_row(engine, ticket_id)).assignee_id is None
    agent = await make_agent(engine, settings, clock)

    async def dispatch(uow: UnitOfWork) -> list[tuple[str, str]]:
        done = await assignment.dispatch_queue(services, uow)
        return [(given.ticket_id, given.assignee_id) for given in done]

    assert await in_unit(engine, dispatch) == [(ticket_id, agent.id)]


async def test_sla_due_times_and_breaches(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> None:
    services = bare_services(
        engine,
        settings,
        clock,
        support_sla_first_response_minutes={"urgent": 10, "high": 60, "normal": 120, "low": 600},
        support_sla_resolution_minutes={"urgent": 60, "high": 240, "normal": 480, "low": 2400},
    )
    user_id = await insert_user(engine, clock)
    agent = await make_agent(engine, settings, clock)
    opened = clock.now()
    ticket_id = await open_for(services, user_id, priority="high")
    row = await ticket_row(engine, ticket_id)
    assert row.sla_first_response_due_at == opened + timedelta(minutes=60)
    assert row.sla_resolution_due_at == opened + timedelta(minutes=240)
    assert sla_state(row, now=clock.now()) == sla_state(row, now=opened)
    assert not sla_state(row, now=opened + timedelta(minutes=60)).first_response_breached
    assert sla_state(row, now=opened + timedelta(minutes=61)).first_response_breached

    # Raising the priority re-times both timers from when the ticket opened.
    async def urgent(uow: UnitOfWork) -> None:
        await lifecycle.change_priority(services, uow, ticket_id=ticket_id, priority="urgent")

    await in_unit(engine, urgent)
    row = await ticket_row(engine, ticket_id)
    assert row.sla_first_response_due_at == opened + timedelta(minutes=10)

    clock.advance(timedelta(minutes=30))  # replied late: breached for good
    await message(
        services,
        ticket_id=ticket_id,
        author_type="agent",
        author_id=agent.id,
        body="抱歉久等",
    )
    row = await ticket_row(engine, ticket_id)
    state = sla_state(row, now=clock.now())
    assert state.first_response_breached
    assert not state.resolution_breached
    await set_status(services, ticket_id, "resolved")  # within the hour
    row = await ticket_row(engine, ticket_id)
    assert not sla_state(row, now=clock.now() + timedelta(days=3)).resolution_breached


async def test_rating_once_and_only_after_resolution(
    engine: AsyncEngine, clock: FrozenClock, services: Services
) -> None:
    user_id = await insert_user(engine, clock)
    other = await insert_user(engine, clock)
    ticket_id = await open_for(services, user_id)

    async def rate(uow: UnitOfWork, *, who: str = user_id, stars: int = 5) -> None:
        await lifecycle.rate_ticket(
            services, uow, ticket_id=ticket_id, user_id=who, rating=stars, comment="很快"
        )

    with pytest.raises(TicketNotResolvedError):
        await in_unit(engine, rate)
    await set_status(services, ticket_id, "resolved")
    from ewallet.kit.errors import NotFoundError  # noqa: PLC0415

    with pytest.raises(NotFoundError):
        await in_unit(engine, lambda uow: rate(uow, who=other))
    await in_unit(engine, rate)
    row = await ticket_row(engine, ticket_id)
    assert (row.rating, row.rating_comment, row.rated_at) == (5, "很快", clock.now())
    with pytest.raises(TicketAlreadyRatedError):
        await in_unit(engine, lambda uow: rate(uow, stars=1))
    assert (await ticket_row(engine, ticket_id)).rating == 5


async def test_agent_reply_is_noticed_and_mailed_to_an_email_customer(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, services: Services
) -> None:
    agent = await make_agent(engine, settings, clock)
    ticket_id = await open_for(services, None, email="Li.Lei@Example.com")
    ack = (await mail_events(engine))[0]
    assert ack["to"] == "li.lei@example.com"
    assert ack["auto_submitted"] is True
    await message(
        services,
        ticket_id=ticket_id,
        author_type="agent",
        author_id=agent.id,
        body="已为您处理",
    )
    reply = (await mail_events(engine))[1]
    row = await ticket_row(engine, ticket_id)
    assert reply["subject"] == f"Re: 充值没到账 [#{row.reference}]"
    assert reply["reply_to"] == f"service+{row.reference}@ewallet.example"
    assert reply["auto_submitted"] is False
    stored = [m.email_message_id for m in await messages_of(engine, ticket_id)]
    assert stored[-1] == reply["message_id"]
