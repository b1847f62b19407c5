"""SQL of call-backs (the ORM :class:`SupportCallback`) and the customer look-ups they need.

Functions take the unit of work's session and never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.models.support_chat import CallbackStatus, SupportCallback
from ewallet.models.tables import users


async def phone_of_user(session: AsyncSession, user_id: str) -> str | None:
    """The customer's account phone number; None for an unknown user."""
    phone: str | None = await session.scalar(select(users.c.phone).where(users.c.id == user_id))
    return phone


async def user_with_phone(session: AsyncSession, phone: str) -> str | None:
    """The id of the customer whose account has ``phone`` (E.164), if any."""
    user_id: str | None = await session.scalar(select(users.c.id).where(users.c.phone == phone))
    return user_id


async def open_count(session: AsyncSession, user_id: str) -> int:
    """How many call-backs the customer has requested and not yet seen done or cancelled."""
    count = await session.scalar(
        select(func.count())
        .select_from(SupportCallback)
        .where(
            SupportCallback.user_id == user_id,
            SupportCallback.status == CallbackStatus.REQUESTED,
        )
    )
    return int(count or 0)


async def add(session: AsyncSession, callback: SupportCallback) -> None:
    session.add(callback)
    await session.flush()


async def of_user(session: AsyncSession, user_id: str, *, limit: int) -> list[SupportCallback]:
    rows = await session.execute(
        select(SupportCallback)
        .where(SupportCallback.user_id == user_id)
        .order_by(SupportCallback.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def locked(session: AsyncSession, callback_id: str) -> SupportCallback | None:
    """The call-back ``FOR UPDATE``, re-read (not the session's stale copy)."""
    statement = (
        select(SupportCallback)
        .where(SupportCallback.id == callback_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def due(session: AsyncSession, *, until: datetime, limit: int) -> list[SupportCallback]:
    """Requested call-backs whose window starts by ``until``, earliest first."""
    rows = await session.execute(
        select(SupportCallback)
        .where(
            SupportCallback.status == CallbackStatus.REQUESTED,
            SupportCallback.preferred_from <= until,
        )
        .order_by(SupportCallback.preferred_from, SupportCallback.id)
        .limit(limit)
    )
    return list(rows.scalars())
