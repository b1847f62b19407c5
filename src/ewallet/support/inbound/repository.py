"""SQL of incoming mail: finding the ticket a mail answers, and the record of every mail.

Every function runs in the caller's session and never commits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.models.support import AuthorType, SupportInboundMail, SupportTicketMessage


async def ticket_of_message_ids(session: AsyncSession, message_ids: list[str]) -> str | None:
    """The ticket holding the newest message with one of these Message-IDs."""
    statement = (
        select(SupportTicketMessage.ticket_id)
        .where(SupportTicketMessage.email_message_id.in_(message_ids))
        .order_by(SupportTicketMessage.created_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def ticket_of_customer_mail(session: AsyncSession, message_id: str) -> str | None:
    """The ticket a customer's mail with this Message-ID was already taken into."""
    statement = select(SupportTicketMessage.ticket_id).where(
        SupportTicketMessage.email_message_id == message_id,
        SupportTicketMessage.author_type == AuthorType.CUSTOMER,
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def add_inbound(session: AsyncSession, record: SupportInboundMail) -> None:
    session.add(record)
    await session.flush()
