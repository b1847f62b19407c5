"""SQL of tickets, their messages and attachments, agents' assignment state and quotas.

Every function runs in the caller's session and never commits. Rows come back as the ORM
classes of :mod:`ewallet.models.support`; customer-facing reads filter internal notes in
the query, never afterwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.models.identity import User
from ewallet.models.operations import Staff, StaffStatus
from ewallet.models.support import (
    ACTIVE_TICKET_STATUSES,
    SupportAttachment,
    SupportTicket,
    SupportTicketMessage,
    TicketPriority,
)
from ewallet.models.tables import support_agent_states as agent_states
from ewallet.support.views import AgentState, TicketThread

PRIORITY_ORDER = case(
    {
        TicketPriority.URGENT: 0,
        TicketPriority.HIGH: 1,
        TicketPriority.NORMAL: 2,
        TicketPriority.LOW: 3,
    },
    value=SupportTicket.priority,
    else_=4,
)


# Tickets and messages.


async def locked_ticket(session: AsyncSession, ticket_id: str) -> SupportTicket | None:
    """The ticket, locked for this transaction (PostgreSQL ``FOR UPDATE``), fresh from the row."""
    statement = (
        select(SupportTicket)
        .where(SupportTicket.id == ticket_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def ticket(session: AsyncSession, ticket_id: str) -> SupportTicket | None:
    return await session.get(SupportTicket, ticket_id)


async def ticket_by_reference(session: AsyncSession, reference: str) -> SupportTicket | None:
    statement = select(SupportTicket).where(SupportTicket.reference == reference)
    return (await session.execute(statement)).scalar_one_or_none()


async def add_ticket(
    session: AsyncSession, ticket: SupportTicket, first: SupportTicketMessage
) -> None:
    session.add(ticket)
    session.add(first)
    await session.flush()


async def add_message(session: AsyncSession, message: SupportTicketMessage) -> None:
    session.add(message)
    await session.flush()


async def first_message_id(session: AsyncSession, ticket_id: str) -> str:
    statement = select(SupportTicketMessage.id).where(SupportTicketMessage.ticket_id == ticket_id)
    return (await session.execute(statement.limit(1))).scalar_one()


async def add_attachments(session: AsyncSession, attachments: list[SupportAttachment]) -> None:
    session.add_all(attachments)
    await session.flush()


async def user(session: AsyncSession, user_id: str) -> User | None:
    """The customer's account row (for notices and the language of mail)."""
    return await session.get(User, user_id)


# Reads.


async def _page(
    session: AsyncSession, statement: Select[Any], *, limit: int, cursor: str | None
) -> Page[SupportTicket]:
    check_limit(limit)
    if cursor is not None:
        before = decode_cursor(cursor).get("before")
        if not isinstance(before, str):
            raise ValidationFailedError("malformed cursor")
        statement = statement.where(SupportTicket.id < before)
    rows = list(
        (await session.execute(statement.order_by(SupportTicket.id.desc()).limit(limit + 1)))
        .scalars()
        .all()
    )
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor({"before": items[-1].id}) if more else None)


async def customer_tickets(
    session: AsyncSession, *, user_id: str, limit: int, cursor: str | None
) -> Page[SupportTicket]:
    statement = select(SupportTicket).where(SupportTicket.user_id == user_id)
    return await _page(session, statement, limit=limit, cursor=cursor)


async def tickets_page(
    session: AsyncSession, statement: Select[Any], *, limit: int, cursor: str | None
) -> Page[SupportTicket]:
    """A page of ``statement`` (a select of tickets), newest first, keyed by ticket id."""
    return await _page(session, statement, limit=limit, cursor=cursor)


async def ticket_thread(
    session: AsyncSession, *, ticket_id: str, user_id: str | None, include_internal: bool
) -> TicketThread | None:
    """The ticket with its messages; ``user_id`` set: only if it is that customer's."""
    statement = select(SupportTicket).where(SupportTicket.id == ticket_id)
    if user_id is not None:
        statement = statement.where(SupportTicket.user_id == user_id)
    found = (await session.execute(statement)).scalar_one_or_none()
    if found is None:
        return None
    messages_query = select(SupportTicketMessage).where(SupportTicketMessage.ticket_id == ticket_id)
    if not include_internal:
        messages_query = messages_query.where(SupportTicketMessage.internal.is_(False))
    messages = list(
        (
            await session.execute(
                messages_query.order_by(SupportTicketMessage.created_at, SupportTicketMessage.id)
            )
        ).scalars()
    )
    visible = {message.id for message in messages}
    attachments = [
        attachment
        for attachment in (
            await session.execute(
                select(SupportAttachment)
                .where(SupportAttachment.ticket_id == ticket_id)
                .order_by(SupportAttachment.created_at, SupportAttachment.id)
            )
        ).scalars()
        if attachment.message_id in visible
    ]
    return TicketThread(found, messages, attachments)


async def attachment(
    session: AsyncSession, *, ticket_id: str, attachment_id: str
) -> SupportAttachment | None:
    statement = select(SupportAttachment).where(
        SupportAttachment.id == attachment_id, SupportAttachment.ticket_id == ticket_id
    )
    return (await session.execute(statement)).scalar_one_or_none()


# Quota.


async def lock_customer(session: AsyncSession, user_id: str) -> None:
    """``FOR NO KEY UPDATE`` on the customer's row: their ticket requests queue up here."""
    statement = select(User.id).where(User.id == user_id).with_for_update(key_share=True)
    await session.execute(statement)


async def open_ticket_count(session: AsyncSession, user_id: str) -> int:
    statement = (
        select(func.count())
        .select_from(SupportTicket)
        .where(SupportTicket.user_id == user_id, SupportTicket.status.in_(ACTIVE_TICKET_STATUSES))
    )
    return int(await session.scalar(statement) or 0)


async def recent_ticket_times(
    session: AsyncSession, user_id: str, *, since: datetime, limit: int
) -> list[datetime]:
    """When the customer's tickets newer than ``since`` opened (``limit`` newest, newest first)."""
    statement = (
        select(SupportTicket.created_at)
        .where(SupportTicket.user_id == user_id, SupportTicket.created_at > since)
        .order_by(SupportTicket.created_at.desc())
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars().all())


# Agents and assignment.


async def active_agent_ids(session: AsyncSession, *, role: str) -> list[str]:
    statement = (
        select(Staff.id)
        .where(Staff.role == role, Staff.status == StaffStatus.ACTIVE)
        .order_by(Staff.id)
    )
    return list((await session.execute(statement)).scalars())


async def assignable_agent(session: AsyncSession, staff_id: str, *, roles: tuple[str, ...]) -> bool:
    """Is ``staff_id`` an active member of staff with one of ``roles``?"""
    statement = select(Staff.id).where(
        Staff.id == staff_id, Staff.status == StaffStatus.ACTIVE, Staff.role.in_(roles)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def locked_agent_states(
    session: AsyncSession, agent_ids: list[str], *, sqlite_dialect: bool
) -> list[AgentState]:
    """Create missing state rows, then lock every one of ``agent_ids`` in id order."""
    dialect_insert = sqlite.insert if sqlite_dialect else postgresql.insert
    await session.execute(
        dialect_insert(agent_states)
        .values([{"staff_id": staff_id, "last_assigned_seq": 0} for staff_id in agent_ids])
        .on_conflict_do_nothing(index_elements=["staff_id"])
    )
    rows = await session.execute(
        select(agent_states.c.staff_id, agent_states.c.last_assigned_seq)
        .where(agent_states.c.staff_id.in_(agent_ids))
        .order_by(agent_states.c.staff_id)
        .with_for_update()
    )
    return [AgentState(str(row.staff_id), int(row.last_assigned_seq)) for row in rows]


async def active_ticket_counts(session: AsyncSession, agent_ids: list[str]) -> dict[str, int]:
    """Per agent, the tickets assigned to them that are not resolved or closed."""
    rows = await session.execute(
        select(SupportTicket.assignee_id, func.count())
        .where(
            SupportTicket.assignee_id.in_(agent_ids),
            SupportTicket.status.in_(ACTIVE_TICKET_STATUSES),
        )
        .group_by(SupportTicket.assignee_id)
    )
    return {str(staff_id): int(active) for staff_id, active in rows}


async def waiting_ticket_ids(session: AsyncSession, *, limit: int) -> list[str]:
    """Unassigned active tickets, most urgent first, then the longest waiting."""
    statement = (
        select(SupportTicket.id)
        .where(
            SupportTicket.assignee_id.is_(None),
            SupportTicket.status.in_(ACTIVE_TICKET_STATUSES),
        )
        .order_by(PRIORITY_ORDER, SupportTicket.created_at, SupportTicket.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def give_ticket(
    session: AsyncSession, *, ticket_id: str, staff_id: str, sequence: int, now: datetime
) -> None:
    """Assign ``ticket_id`` to ``staff_id`` and move the agent's round-robin position."""
    await session.execute(
        update(SupportTicket)
        .where(SupportTicket.id == ticket_id)
        .values(assignee_id=staff_id, assigned_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(
        update(agent_states)
        .where(agent_states.c.staff_id == staff_id)
        .values(last_assigned_seq=sequence, last_assigned_at=now)
    )
