"""Call-back requests and logged phone calls.

A customer asks to be called back in a window: it must start in the future, end within
``support_callback_max_days``, last at least ``support_callback_min_window_minutes`` and lie
inside one opening period of the hotline (``EWALLET_SUPPORT_HOURS``), so an agent is there
to call. Agents see the due requests with the number in full: the customer asked to be
called on it, so the agent must be able to dial it (each listing is audit-logged).

A phone call an agent took is logged as a ticket (channel ``phone``), attached to the
customer whose phone number it was, if any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.callbacks.errors import CallbackLimitError, CallbackNotOpenError
from ewallet.config import Settings
from ewallet.help.contact import Hours
from ewallet.kit.clock import Clock, as_utc
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.kit.phone import parse_phone
from ewallet.models.identity import User
from ewallet.models.support_chat import SupportCallback
from ewallet.support.tickets import open_ticket

CallOutcome = Literal["resolved", "follow_up", "escalated"]


@dataclass(frozen=True, slots=True)
class CallbackView:
    id: str
    user_id: str
    phone: str
    topic: str
    preferred_from: datetime
    preferred_to: datetime
    status: str
    outcome: str | None
    handled_by: str | None
    created_at: datetime
    closed_at: datetime | None


def _view(row: SupportCallback) -> CallbackView:
    return CallbackView(
        id=row.id,
        user_id=row.user_id,
        phone=row.phone,
        topic=row.topic,
        preferred_from=row.preferred_from,
        preferred_to=row.preferred_to,
        status=row.status,
        outcome=row.outcome,
        handled_by=row.handled_by,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


def check_window(settings: Settings, *, now: datetime, start: datetime, end: datetime) -> None:
    """Refuse a window that is past, too far, too short, or outside the hotline's hours."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailedError("times need an offset (RFC 3339)")
    if start <= now:
        raise ValidationFailedError("preferred_from must be in the future")
    if end > now + timedelta(days=settings.support_callback_max_days):
        raise ValidationFailedError(
            f"a call-back can be booked at most {settings.support_callback_max_days} days ahead"
        )
    if end - start < timedelta(minutes=settings.support_callback_min_window_minutes):
        raise ValidationFailedError(
            f"the window must last at least {settings.support_callback_min_window_minutes} minutes"
        )
    period = Hours.parse(settings.support_hours).period_containing(start)
    if period is None or end > period[1]:
        raise ValidationFailedError("the window must lie within the hotline's opening hours")


async def request_callback(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    user_id: str,
    preferred_from: datetime,
    preferred_to: datetime,
    topic: str,
    phone: str | None,
) -> CallbackView:
    now = clock.now()
    check_window(settings, now=now, start=preferred_from, end=preferred_to)
    number = parse_phone(phone) if phone else None
    topic = topic.strip()
    if not topic:
        raise ValidationFailedError("topic must not be empty")

    async def work(uow: UnitOfWork) -> CallbackView:
        session = uow.session
        user = await session.get(User, user_id)
        if user is None:
            raise NotFoundError("no such user")
        open_count = await session.scalar(
            select(func.count())
            .select_from(SupportCallback)
            .where(SupportCallback.user_id == user_id, SupportCallback.status == "requested")
        )
        if int(open_count or 0) >= settings.support_callback_open_max:
            raise CallbackLimitError(
                f"at most {settings.support_callback_open_max} call-backs may be open at once"
            )
        row = SupportCallback(
            id=new_id("cbk"),
            user_id=user_id,
            phone=number or user.phone,
            topic=topic,
            preferred_from=as_utc(preferred_from),
            preferred_to=as_utc(preferred_to),
            status="requested",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=Actor("user", user_id),
            action="support.callback_requested",
            subject_type="user",
            subject_id=user_id,
            details={"callback_id": row.id},
        )
        return _view(row)

    return await run_unit(engine, work)


async def my_callbacks(engine: AsyncEngine, *, user_id: str, limit: int) -> list[CallbackView]:
    async def work(uow: UnitOfWork) -> list[CallbackView]:
        rows = await uow.session.execute(
            select(SupportCallback)
            .where(SupportCallback.user_id == user_id)
            .order_by(SupportCallback.id.desc())
            .limit(limit)
        )
        return [_view(row) for row in rows.scalars()]

    return await run_unit(engine, work, read_only=True)


async def _locked(uow: UnitOfWork, callback_id: str) -> SupportCallback | None:
    statement = (
        select(SupportCallback)
        .where(SupportCallback.id == callback_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await uow.session.execute(statement)).scalar_one_or_none()


async def cancel_callback(
    engine: AsyncEngine, *, clock: Clock, user_id: str, callback_id: str
) -> CallbackView:
    async def work(uow: UnitOfWork) -> CallbackView:
        row = await _locked(uow, callback_id)
        if row is None or row.user_id != user_id:
            raise NotFoundError("no such call-back request")
        if row.status != "requested":
            raise CallbackNotOpenError("this call-back is already done or cancelled")
        now = clock.now()
        row.status, row.updated_at, row.closed_at = "cancelled", now, now
        await uow.session.flush()
        return _view(row)

    return await run_unit(engine, work)


async def due_callbacks(
    engine: AsyncEngine, *, clock: Clock, actor: Actor, within: timedelta, limit: int
) -> list[CallbackView]:
    """Open requests whose window starts within ``within`` from now, earliest first."""

    async def work(uow: UnitOfWork) -> list[CallbackView]:
        now = clock.now()
        rows = await uow.session.execute(
            select(SupportCallback)
            .where(
                SupportCallback.status == "requested",
                SupportCallback.preferred_from <= now + within,
            )
            .order_by(SupportCallback.preferred_from, SupportCallback.id)
            .limit(limit)
        )
        found = [_view(row) for row in rows.scalars()]
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.callbacks_listed",
            details={"count": len(found), "within_minutes": int(within.total_seconds() // 60)},
        )
        return found

    return await run_unit(engine, work)


async def complete_callback(
    engine: AsyncEngine, *, clock: Clock, actor: Actor, callback_id: str, outcome: str
) -> CallbackView:
    async def work(uow: UnitOfWork) -> CallbackView:
        row = await _locked(uow, callback_id)
        if row is None:
            raise NotFoundError("no such call-back request")
        if row.status != "requested":
            raise CallbackNotOpenError("this call-back is already done or cancelled")
        now = clock.now()
        row.status, row.outcome, row.handled_by = "done", outcome.strip()[:500], actor.id
        row.updated_at, row.closed_at = now, now
        await uow.session.flush()
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.callback_done",
            subject_type="user",
            subject_id=row.user_id,
            details={"callback_id": row.id},
        )
        return _view(row)

    return await run_unit(engine, work)


@dataclass(frozen=True, slots=True)
class LoggedCall:
    ticket_id: str
    user_id: str | None


async def log_call(
    engine: AsyncEngine,
    *,
    clock: Clock,
    actor: Actor,
    phone: str,
    summary: str,
    category: str | None,
    outcome: CallOutcome,
) -> LoggedCall:
    """A phone call as a ticket (channel ``phone``), on the caller's account when known.

    A caller without an account -- often someone whose registration failed -- gets a
    ticket all the same, carrying their number, so the follow-up is not lost.
    """
    number = parse_phone(phone)

    async def work(uow: UnitOfWork) -> LoggedCall:
        session = uow.session
        user_id = await session.scalar(select(User.id).where(User.phone == number))
        subject = f"电话 / Phone call ({outcome}): {summary.strip()}"
        ticket_id = await open_ticket(
            uow,
            clock=clock,
            user_id=user_id,
            email=None,
            subject=subject[:120],
            body=summary,
            channel="phone",
            category=category,
            author_type="agent",
            author_id=actor.id,
            acknowledge=False,
            phone=None if user_id is not None else number,
        )
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.call_logged",
            subject_type="user" if user_id is not None else "ticket",
            subject_id=user_id if user_id is not None else ticket_id,
            details={"ticket_id": ticket_id, "outcome": outcome},
        )
        return LoggedCall(ticket_id, user_id)

    return await run_unit(engine, work)
