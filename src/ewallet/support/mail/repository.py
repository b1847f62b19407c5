"""SQL of support mail: customers' proven addresses, a ticket's mail thread, captured mail.

Every function runs in the caller's session or connection and never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ewallet.models.support import SupportCustomerEmail, SupportTicketMessage
from ewallet.models.tables import email_messages


async def verified_user_for(session: AsyncSession, email: str) -> str | None:
    """The customer who proved ``email`` (already normalised), if anyone did."""
    statement = select(SupportCustomerEmail.user_id).where(
        SupportCustomerEmail.email == email, SupportCustomerEmail.verified_at.is_not(None)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def customer_email(session: AsyncSession, user_id: str) -> SupportCustomerEmail | None:
    """The customer's address row (proven or still waiting for its code)."""
    statement = select(SupportCustomerEmail).where(SupportCustomerEmail.user_id == user_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def add_customer_email(session: AsyncSession, row: SupportCustomerEmail) -> None:
    session.add(row)
    await session.flush()


async def verified_email_of(session: AsyncSession, user_id: str) -> str | None:
    statement = select(SupportCustomerEmail.email).where(
        SupportCustomerEmail.user_id == user_id, SupportCustomerEmail.verified_at.is_not(None)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def thread_message_ids(session: AsyncSession, ticket_id: str) -> list[tuple[str, str]]:
    """(Message-ID, author type) of the ticket's messages that went by mail, oldest first."""
    statement = (
        select(SupportTicketMessage.email_message_id, SupportTicketMessage.author_type)
        .where(
            SupportTicketMessage.ticket_id == ticket_id,
            SupportTicketMessage.email_message_id.is_not(None),
        )
        .order_by(SupportTicketMessage.created_at, SupportTicketMessage.id)
    )
    rows = await session.execute(statement)
    return [(str(row.email_message_id), str(row.author_type)) for row in rows]


async def store_captured(
    conn: AsyncConnection, *, sqlite_dialect: bool, values: dict[str, Any]
) -> None:
    """Keep a mail the development ``outbox`` provider captured; once per outbox event."""
    dialect_insert = sqlite.insert if sqlite_dialect else postgresql.insert
    await conn.execute(
        dialect_insert(email_messages)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
