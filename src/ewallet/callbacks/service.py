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

from datetime import date, datetime, timedelta
from typing import Final, Literal

from ewallet.audit.service import Actor, record_event
from ewallet.callbacks import repository as repo
from ewallet.callbacks.errors import CallbackLimitError, CallbackNotOpenError
from ewallet.callbacks.views import CallbackDesk, CallbackView, LoggedCall, Slot
from ewallet.config import Settings
from ewallet.help import service as help_service
from ewallet.help.views import CHINA_TIME, Hours
from ewallet.kit.clock import as_utc
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.i18n import Locale
from ewallet.kit.ids import new_id
from ewallet.kit.phone import parse_phone
from ewallet.models.support import AuthorType, TicketChannel
from ewallet.models.support_chat import CallbackStatus, SupportCallback
from ewallet.services import Services
from ewallet.support.service.tickets import open_ticket

CallOutcome = Literal["resolved", "follow_up", "escalated"]
_NOT_OPEN = "this call-back is already done or cancelled"
SLOT_MINUTES: Final = 60


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
    services: Services,
    user_id: str,
    *,
    preferred_from: datetime,
    preferred_to: datetime,
    topic: str,
    phone: str | None,
) -> CallbackView:
    """Book a call-back on ``phone`` (default: the account's number), audited as
    ``support.callback_requested``.

    Refusals in order: ``422 validation_error`` (the window: :func:`check_window`; a
    malformed phone number; an empty topic); ``404 not_found`` (no such user);
    ``409 callback_limit_reached`` (``support_callback_open_max`` already open).
    """
    settings, clock = services.settings, services.clock
    now = clock.now()
    check_window(settings, now=now, start=preferred_from, end=preferred_to)
    number = parse_phone(phone) if phone else None
    topic = topic.strip()
    if not topic:
        raise ValidationFailedError("topic must not be empty")

    async def work(uow: UnitOfWork) -> CallbackView:
        session = uow.session
        account_phone = await repo.phone_of_user(session, user_id)
        if account_phone is None:
            raise NotFoundError("no such user")
        if await repo.open_count(session, user_id) >= settings.support_callback_open_max:
            raise CallbackLimitError(
                f"at most {settings.support_callback_open_max} call-backs may be open at once"
            )
        row = SupportCallback(
            id=new_id("cbk"),
            user_id=user_id,
            phone=number or account_phone,
            topic=topic,
            preferred_from=as_utc(preferred_from),
            preferred_to=as_utc(preferred_to),
            status=CallbackStatus.REQUESTED,
            created_at=now,
            updated_at=now,
        )
        await repo.add(session, row)
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

    return await run_unit(services.engine, work)


def booking_slots(settings: Settings) -> list[Slot]:
    """The hotline's opening hours cut into hour-long slots (a shorter last one is kept when
    it lasts at least ``support_callback_min_window_minutes``)."""
    hours = Hours.parse(settings.support_hours)
    start, end = _minutes(hours.opens), _minutes(hours.closes)
    if end <= start:
        end += 24 * 60  # the hours run past midnight
    slots = []
    for first in range(start, end, SLOT_MINUTES):
        last = min(first + SLOT_MINUTES, end)
        if last - first >= settings.support_callback_min_window_minutes:
            slots.append(Slot(_clock_text(first), _clock_text(last, end_of_day=True)))
    return slots


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _clock_text(minutes: int, *, end_of_day: bool = False) -> str:
    if end_of_day and minutes == 24 * 60:
        return "24:00"
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def callback_desk(
    services: Services, user_id: str, *, locale: Locale, limit: int
) -> CallbackDesk:
    """Everything the contact page shows a signed-in customer: the hotline and its hours,
    the account's phone number (a call-back's default), their latest ``limit`` call-back
    requests, and the days and slots a new request may choose (every day a request may
    reach, :func:`booking_slots`; the first slot :func:`check_window` accepts now is the
    suggestion). Refusal: ``not_found`` (no such user)."""
    settings, now = services.settings, services.clock.now()
    contact = await help_service.contact(services, locale=locale)

    async def work(uow: UnitOfWork) -> tuple[str, list[CallbackView]]:
        phone = await repo.phone_of_user(uow.session, user_id)
        if phone is None:
            raise NotFoundError("no such user")
        rows = await repo.of_user(uow.session, user_id, limit=limit)
        return phone, [_view(row) for row in rows]

    phone, callbacks = await run_unit(services.engine, work, read_only=True)
    today = now.astimezone(CHINA_TIME).date()
    days = [today + timedelta(days=n) for n in range(settings.support_callback_max_days)]
    slots = booking_slots(settings)
    return CallbackDesk(
        contact, phone, callbacks, days, slots, _first_open_slot(settings, now, days, slots)
    )


def _first_open_slot(
    settings: Settings, now: datetime, days: list[date], slots: list[Slot]
) -> tuple[date, Slot] | None:
    for day in days:
        for slot in sorted(slots, key=lambda s: s.window(day)[0]):
            start, end = slot.window(day)
            try:
                check_window(settings, now=now, start=start, end=end)
            except ValidationFailedError:
                continue
            return day, slot
    return None


async def my_callbacks(services: Services, user_id: str, *, limit: int) -> list[CallbackView]:
    """The customer's call-back requests, newest first."""

    async def work(uow: UnitOfWork) -> list[CallbackView]:
        return [_view(row) for row in await repo.of_user(uow.session, user_id, limit=limit)]

    return await run_unit(services.engine, work, read_only=True)


async def cancel_callback(services: Services, user_id: str, *, callback_id: str) -> CallbackView:
    """The customer cancels an open call-back request (not audited: nothing was done).

    Refusals in order: ``404 not_found`` (unknown, or another customer's);
    ``409 callback_not_open``. Locks the call-back ``FOR UPDATE``.
    """

    async def work(uow: UnitOfWork) -> CallbackView:
        row = await repo.locked(uow.session, callback_id)
        if row is None or row.user_id != user_id:
            raise NotFoundError("no such call-back request")
        if row.status != CallbackStatus.REQUESTED:
            raise CallbackNotOpenError(_NOT_OPEN)
        now = services.clock.now()
        row.status, row.updated_at, row.closed_at = CallbackStatus.CANCELLED, now, now
        await uow.session.flush()
        return _view(row)

    return await run_unit(services.engine, work)


async def due_callbacks(
    services: Services, actor: Actor, *, within: timedelta, limit: int
) -> list[CallbackView]:
    """Open requests whose window starts within ``within`` from now, earliest first, with
    the number in full; the listing is audited (``support.callbacks_listed``)."""
    clock = services.clock

    async def work(uow: UnitOfWork) -> list[CallbackView]:
        rows = await repo.due(uow.session, until=clock.now() + within, limit=limit)
        found = [_view(row) for row in rows]
        await record_event(
            await uow.connection(),
            clock=clock,
            actor=actor,
            action="support.callbacks_listed",
            details={"count": len(found), "within_minutes": int(within.total_seconds() // 60)},
        )
        return found

    return await run_unit(services.engine, work)


async def complete_callback(
    services: Services, actor: Actor, *, callback_id: str, outcome: str
) -> CallbackView:
    """An agent marks a call-back done with its outcome (``support.callback_done``).

    Refusals in order: ``422 validation_error`` (no outcome: what came of the call is the
    record); ``404 not_found``; ``409 callback_not_open``. Locks the call-back ``FOR UPDATE``.
    """
    clock = services.clock
    if not outcome.strip():
        raise ValidationFailedError("say what came of the call", field="outcome")

    async def work(uow: UnitOfWork) -> CallbackView:
        row = await repo.locked(uow.session, callback_id)
        if row is None:
            raise NotFoundError("no such call-back request")
        if row.status != CallbackStatus.REQUESTED:
            raise CallbackNotOpenError(_NOT_OPEN)
        now = clock.now()
        note = outcome.strip()[:500]
        row.status, row.outcome, row.handled_by = CallbackStatus.DONE, note, actor.id
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

    return await run_unit(services.engine, work)


async def log_call(
    services: Services,
    actor: Actor,
    *,
    phone: str,
    summary: str,
    category: str | None,
    outcome: CallOutcome,
) -> LoggedCall:
    """A phone call as a ticket (channel ``phone``), on the caller's account when known
    (``support.call_logged`` audited).

    A caller without an account -- often someone whose registration failed -- gets a
    ticket all the same, carrying their number, so the follow-up is not lost. Refusals:
    ``422 validation_error`` (a malformed phone number first, then the ticket's own rules:
    :func:`ewallet.support.service.tickets.open_ticket`).
    """
    number = parse_phone(phone)

    async def work(uow: UnitOfWork) -> LoggedCall:
        user_id = await repo.user_with_phone(uow.session, number)
        # The summary's first line names the ticket (the whole summary is its first message).
        first_line = next((line.strip() for line in summary.splitlines() if line.strip()), "")
        subject = f"电话 / Phone call ({outcome}): {first_line}"
        ticket_id = await open_ticket(
            services,
            uow,
            user_id=user_id,
            email=None,
            subject=subject[:120],
            body=summary,
            channel=TicketChannel.PHONE,
            category=category,
            author_type=AuthorType.AGENT,
            author_id=actor.id,
            acknowledge=False,
            phone=None if user_id is not None else number,
        )
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=actor,
            action="support.call_logged",
            subject_type="user" if user_id is not None else "ticket",
            subject_id=user_id if user_id is not None else ticket_id,
            details={"ticket_id": ticket_id, "outcome": outcome},
        )
        return LoggedCall(ticket_id, user_id)

    return await run_unit(services.engine, work)
