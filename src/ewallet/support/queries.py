"""Reads of tickets for customers and staff; internal notes are filtered in SQL for customers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.models.support import SupportAttachment, SupportTicket, SupportTicketMessage
from ewallet.support.sla import breached_condition


@dataclass(frozen=True, slots=True)
class TicketThread:
    ticket: SupportTicket
    messages: list[SupportTicketMessage]
    attachments: list[SupportAttachment]


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


async def ticket_thread(
    session: AsyncSession, *, ticket_id: str, user_id: str | None, include_internal: bool
) -> TicketThread | None:
    """The ticket with its messages; ``user_id`` set: only if it is that customer's."""
    statement = select(SupportTicket).where(SupportTicket.id == ticket_id)
    if user_id is not None:
        statement = statement.where(SupportTicket.user_id == user_id)
    ticket = (await session.execute(statement)).scalar_one_or_none()
    if ticket is None:
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
    return TicketThread(ticket, messages, attachments)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str | None = None
    priority: str | None = None
    category: str | None = None
    channel: str | None = None
    # An agent id, "none" (the unassigned queue) or None (everyone's).
    assignee: str | None = None
    breached: bool | None = None
    user_id: str | None = None


async def staff_tickets(
    session: AsyncSession, *, filters: QueueFilter, now: datetime, limit: int, cursor: str | None
) -> Page[SupportTicket]:
    statement = select(SupportTicket)
    t = SupportTicket
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
    return await _page(session, statement, limit=limit, cursor=cursor)


async def attachment(
    session: AsyncSession, *, ticket_id: str, attachment_id: str
) -> SupportAttachment | None:
    return (
        await session.execute(
            select(SupportAttachment).where(
                SupportAttachment.id == attachment_id, SupportAttachment.ticket_id == ticket_id
            )
        )
    ).scalar_one_or_none()
