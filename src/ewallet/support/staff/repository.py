"""SQL of the staff queue (filters, SLA breaches) and of canned replies; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.kit.pagination import Page
from ewallet.models.support import SupportCannedReply, SupportTicket
from ewallet.support import repository as tickets_repo
from ewallet.support.views import QueueFilter


def breached_condition(now: datetime) -> ColumnElement[bool]:
    """SQL for "some SLA timer is breached" (never NULL), as ``sla.sla_state`` judges."""
    t = SupportTicket
    first = or_(
        and_(t.first_response_at.is_(None), t.sla_first_response_due_at < now),
        and_(t.first_response_at.is_not(None), t.first_response_at > t.sla_first_response_due_at),
    )
    # Closing sets resolved_at too, so resolved_at alone tells whether the timer stopped.
    resolution = or_(
        and_(t.resolved_at.is_(None), t.sla_resolution_due_at < now),
        and_(t.resolved_at.is_not(None), t.resolved_at > t.sla_resolution_due_at),
    )
    return or_(first, resolution)


async def staff_tickets(
    session: AsyncSession, *, filters: QueueFilter, now: datetime, limit: int, cursor: str | None
) -> Page[SupportTicket]:
    """The queue as filtered, newest first."""
    t = SupportTicket
    statement = select(t)
    if filters.status is not None:
        statement = statement.where(t.status == filters.status)
    if filters.priority is not None:
        statement = statement.where(t.priority == filters.priority)
    if filters.category is not None:
        statement = statement.where(t.category == filters.category)
    if filters.channel is not None:
        statement = statement.where(t.channel == filters.channel)
    if filters.user_id is not None:
        statement = statement.where(t.user_id == filters.user_id)
    if filters.assignee == "none":
        statement = statement.where(t.assignee_id.is_(None))
    elif filters.assignee is not None:
        statement = statement.where(t.assignee_id == filters.assignee)
    if filters.breached is True:
        statement = statement.where(breached_condition(now))
    elif filters.breached is False:
        statement = statement.where(~breached_condition(now))
    return await tickets_repo.tickets_page(session, statement, limit=limit, cursor=cursor)


async def canned_replies(
    session: AsyncSession, *, category: str | None
) -> list[SupportCannedReply]:
    """By title; for a category: its own replies and the general ones (no category)."""
    statement = select(SupportCannedReply).order_by(SupportCannedReply.title, SupportCannedReply.id)
    if category is not None:
        statement = statement.where(
            (SupportCannedReply.category == category) | SupportCannedReply.category.is_(None)
        )
    return list((await session.execute(statement)).scalars())


async def canned_reply(session: AsyncSession, reply_id: str) -> SupportCannedReply | None:
    return await session.get(SupportCannedReply, reply_id)


async def add_canned_reply(session: AsyncSession, reply: SupportCannedReply) -> None:
    session.add(reply)
    await session.flush()


async def delete_canned_reply(session: AsyncSession, reply: SupportCannedReply) -> None:
    await session.delete(reply)
    await session.flush()
