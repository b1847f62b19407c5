"""The SQL of the customer search: who has this phone number, whose ticket or chat is this.

Functions take the caller's connection and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.agent_context.repository import customer_exists
from ewallet.models.support import SupportTicket
from ewallet.models.support_chat import SupportChat
from ewallet.models.tables import users


async def users_by_ids(conn: AsyncConnection, user_ids: list[str]) -> list[Any]:
    """The ``users`` rows of ``user_ids`` (any order)."""
    if not user_ids:
        return []
    rows = await conn.execute(select(users).where(users.c.id.in_(user_ids)))
    return list(rows)


async def user_id_by_phone(conn: AsyncConnection, phone: str) -> str | None:
    return await conn.scalar(select(users.c.id).where(users.c.phone == phone))


@dataclass(frozen=True, slots=True)
class TicketOwner:
    user_id: str | None
    phone: str | None


async def ticket_owner(conn: AsyncConnection, ticket: str) -> TicketOwner | None:
    """Whose ticket ``ticket`` is (its reference, any case, or its id): the account, or
    the phone number a caller without one gave."""
    row = (
        await conn.execute(
            select(SupportTicket.user_id, SupportTicket.phone).where(
                or_(SupportTicket.reference == ticket.upper(), SupportTicket.id == ticket)
            )
        )
    ).first()
    return None if row is None else TicketOwner(row.user_id, row.phone)


async def chat_owner(conn: AsyncConnection, chat_id: str) -> str | None:
    return await conn.scalar(select(SupportChat.user_id).where(SupportChat.id == chat_id))


async def matching_customers(conn: AsyncConnection, *, by: str, value: str) -> list[str]:
    """The ids of the customers a search ``by`` (``user_id``, ``phone`` in E.164, ``chat``
    or ``ticket``) for ``value`` finds: at most one, as each of these names one person."""
    found: str | None = None
    if by == "user_id":
        found = value if await customer_exists(conn, value) else None
    elif by == "phone":
        found = await user_id_by_phone(conn, value)
    elif by == "chat":
        found = await chat_owner(conn, value)
    elif (owner := await ticket_owner(conn, value)) is not None:
        found = owner.user_id
        if found is None and owner.phone is not None:
            # A caller without an account when the ticket was logged may have one by now.
            found = await user_id_by_phone(conn, owner.phone)
    return [found] if found else []
