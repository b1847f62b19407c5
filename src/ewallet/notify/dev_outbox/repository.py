"""The development outbox's SQL: the newest captured SMS and mail, optionally to one recipient."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.models.tables import email_messages, sms_messages
from ewallet.notify.dev_outbox.views import CapturedMail, CapturedSms


async def newest_sms(conn: AsyncConnection, *, phone: str | None, limit: int) -> list[CapturedSms]:
    """Up to ``limit`` kept texts, newest first; to ``phone`` (E.164) only when given."""
    statement = select(sms_messages).order_by(sms_messages.c.id.desc()).limit(limit)
    if phone is not None:
        statement = statement.where(sms_messages.c.recipient == phone)
    return [
        CapturedSms(
            id=row.id,
            to=row.recipient,
            sender=row.sender,
            body=row.body,
            code=row.code,
            created_at=row.created_at,
        )
        for row in await conn.execute(statement)
    ]


async def newest_mail(conn: AsyncConnection, *, to: str | None, limit: int) -> list[CapturedMail]:
    """Up to ``limit`` kept mails, newest first; to the address ``to`` only when given."""
    statement = select(email_messages).order_by(email_messages.c.id.desc()).limit(limit)
    if to is not None:
        statement = statement.where(email_messages.c.recipient == to)
    return [
        CapturedMail(
            id=row.id,
            to=row.recipient,
            sender=row.sender,
            subject=row.subject,
            body=row.body,
            headers=dict(row.headers or {}),
            created_at=row.created_at,
        )
        for row in await conn.execute(statement)
    ]
