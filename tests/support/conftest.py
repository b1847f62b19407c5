"""Support fixtures: the served-app harness of the account-security tests, plus agents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.outbox import OutboxEvent
from ewallet.models.support import (
    SupportAttachment,
    SupportInboundMail,
    SupportTicket,
    SupportTicketMessage,
)
from ewallet.security.context import SecurityContext
from ewallet.services import Services
from tests.fixtures.accounts import START, Harness, clock, harness
from tests.fixtures.staff import bearer, make_staff, staff_token
from tests.fixtures.support import bare_services

__all__ = ["START", "Harness", "clock", "harness"]

tickets_table = cast(Table, SupportTicket.__table__)
messages_table = cast(Table, SupportTicketMessage.__table__)
outbox_table = cast(Table, OutboxEvent.__table__)
inbound_table = cast(Table, SupportInboundMail.__table__)
attachments_table = cast(Table, SupportAttachment.__table__)


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    headers: dict[str, str]


async def make_agent(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, *, role: str = "support_agent"
) -> Agent:
    security = SecurityContext.from_settings(settings)
    login = await make_staff(engine, security, clock, role)
    token = await staff_token(engine, security, settings, clock, login.id)
    return Agent(login.id, bearer(token))


@pytest.fixture
def services(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> Services:
    """The services support's use cases run on, with the test's engine and clock."""
    return bare_services(engine, settings, clock)


async def ticket_row(engine: AsyncEngine, ticket_id: str) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(select(tickets_table).where(tickets_table.c.id == ticket_id))
        ).one()


async def messages_of(engine: AsyncEngine, ticket_id: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            await conn.execute(
                select(messages_table)
                .where(messages_table.c.ticket_id == ticket_id)
                .order_by(messages_table.c.created_at, messages_table.c.id)
            )
        )


async def mail_events(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox_table.c.payload)
            .where(outbox_table.c.topic == "email.send")
            .order_by(outbox_table.c.id)
        )
        return [dict(row.payload) for row in rows]


async def count(engine: AsyncEngine, table: Table, *where: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def in_unit(engine: AsyncEngine, work: Any) -> Any:
    async def run(uow: UnitOfWork) -> Any:
        return await work(uow)

    return await run_unit(engine, run)
