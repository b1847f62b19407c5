"""SQL of the staff queue (filters, SLA breaches), of canned replies and of the agents'
names; never commits.

The console's queue (:func:`queue_page`) and the agents' names are Core statements built
once per shape with bound parameters: the queue is the support desk's most opened page,
and a reused statement skips SQLAlchemy's per-call construction and cache-key work.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.pagination import Page, check_limit, decode_cursor, encode_cursor
from ewallet.models.operations import Staff, StaffStatus
from ewallet.models.support import SupportCannedReply, SupportTicket
from ewallet.support import repository as tickets_repo
from ewallet.support.staff.views import AgentName, QueueTicket
from ewallet.support.views import QueueFilter


def breached_condition(now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
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


# The console's queue: the columns a row shows, one statement per combination of filters.

_T = SupportTicket
_QUEUE_COLUMNS = (
    _T.id,
    _T.reference,
    _T.subject,
    _T.status,
    _T.priority,
    _T.category,
    _T.channel,
    _T.assignee_id,
    _T.created_at,
    _T.first_response_at,
    _T.sla_first_response_due_at,
    _T.sla_resolution_due_at,
    _T.resolved_at,
    _T.closed_at,
)
_EQUAL_FILTERS = ("status", "priority", "category", "channel", "user_id")


@cache
def _queue_statement(
    equal: tuple[str, ...], assignee: str | None, breached: bool | None, after_cursor: bool
) -> Select[*tuple[Any, ...]]:
    """The queue's statement for one shape of filters: ``equal`` names the columns compared
    with a bound value of the same name, ``assignee`` is None (anyone), ``"none"``
    (unassigned) or ``"one"`` (bound ``assignee``), ``breached`` as :class:`QueueFilter`'s
    (bound ``now``), ``after_cursor`` adds ``id < :before``. Newest first, ``limit`` rows."""
    statement: Select[*tuple[Any, ...]] = select(*_QUEUE_COLUMNS)
    for name in equal:
        statement = statement.where(getattr(_T, name) == bindparam(name))
    if assignee == "none":
        statement = statement.where(_T.assignee_id.is_(None))
    elif assignee == "one":
        statement = statement.where(_T.assignee_id == bindparam("assignee"))
    if breached is not None:
        condition = breached_condition(bindparam("now", type_=_T.created_at.type))
        statement = statement.where(condition if breached else ~condition)
    if after_cursor:
        statement = statement.where(_T.id < bindparam("before"))
    return statement.order_by(_T.id.desc()).limit(bindparam("limit"))


async def queue_page(
    conn: AsyncConnection, *, filters: QueueFilter, now: datetime, limit: int, cursor: str | None
) -> Page[QueueTicket]:
    """The queue as filtered, newest first (as :func:`staff_tickets` pages it: by ticket id,
    the same cursors), as the rows the console's queue shows."""
    check_limit(limit)
    params: dict[str, Any] = {"limit": limit + 1}
    if cursor is not None:
        before = decode_cursor(cursor).get("before")
        if not isinstance(before, str):
            raise ValidationFailedError("malformed cursor")
        params["before"] = before
    equal = []
    for name in _EQUAL_FILTERS:
        value = getattr(filters, name)
        if value is not None:
            equal.append(name)
            params[name] = value
    assignee = None
    if filters.assignee == "none":
        assignee = "none"
    elif filters.assignee is not None:
        assignee, params["assignee"] = "one", filters.assignee
    if filters.breached is not None:
        params["now"] = now
    statement = _queue_statement(tuple(equal), assignee, filters.breached, cursor is not None)
    rows = [QueueTicket(*row) for row in await conn.execute(statement, params)]
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor({"before": items[-1].id}) if more else None)


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


# Agents' names.


def _name(display_name: str | None, email: str) -> str:
    return display_name or email


@cache
def _active_staff_with_roles(roles: tuple[str, ...]) -> Select[*tuple[Any, ...]]:
    """Made once per set of roles (the callers name a constant one), each role its own
    bound value: an expanding ``IN`` parameter is rendered into the SQL again on every
    execution, and the queue runs this on every page."""
    return (
        select(Staff.id, Staff.display_name, Staff.email, Staff.role)
        .where(
            Staff.status == StaffStatus.ACTIVE,
            Staff.role.in_([literal(role, Staff.role.type) for role in roles]),
        )
        .order_by(Staff.display_name, Staff.email, Staff.id)
    )


_staff_names = select(Staff.id, Staff.display_name, Staff.email).where(
    Staff.id.in_(bindparam("staff_ids", expanding=True))
)


async def active_staff_with_roles(
    conn: AsyncConnection, *, roles: tuple[str, ...]
) -> list[AgentName]:
    """Active staff in ``roles``, by name (whom a ticket may be assigned to)."""
    rows = await conn.execute(_active_staff_with_roles(tuple(roles)))
    return [AgentName(row.id, _name(row.display_name, row.email), row.role) for row in rows]


async def staff_names(conn: AsyncConnection, staff_ids: set[str]) -> dict[str, str]:
    """staff id -> name for ``staff_ids`` (disabled staff too: they still wrote and held)."""
    if not staff_ids:
        return {}
    rows = await conn.execute(_staff_names, {"staff_ids": sorted(staff_ids)})
    return {row.id: _name(row.display_name, row.email) for row in rows}
