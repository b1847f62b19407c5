"""Operations health: money whose outcome is not final, and the outbox (docs/operations.md).

- :func:`pending_funding`: unfinished top-ups and withdrawals, oldest first, with their age,
  where their money sits (suspense for a card top-up in doubt, a hold on the wallet for a
  withdrawal) and what finishes them; the look is audited (``funding.pending_viewed``,
  the customers whose masked phones were shown).
- :func:`outbox_health`: the outbox by topic and state, and the dead events -- topics and
  the ids they refer to, never a payload (an SMS body holds a verification code).
- :func:`replay_outbox_event`: a dead event due again with fresh attempts, audited
  (``outbox.replayed``); anything but a dead event is ``409 outbox_event_not_dead``.

Every read is one read-only unit (the pending list's is a write unit: it records the look).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Final

from ewallet.audit.service import record_event
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.pagination import check_limit, decode_cursor, encode_cursor
from ewallet.kit.phone import mask_phone
from ewallet.models.funding import TopupMethod, TopupStatus, WithdrawalStatus
from ewallet.models.outbox import OutboxStatus
from ewallet.ops.health import repository as repo
from ewallet.ops.health.errors import OutboxEventNotDeadError
from ewallet.ops.health.views import (
    EventState,
    FundingKind,
    HeldIn,
    OutboxEventView,
    OutboxHealth,
    OutboxRecord,
    PendingFunding,
    PendingFundingReport,
    PendingRecord,
    SettledBy,
    TopicHealth,
)
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal

# The settle job asks about a withdrawal still ``processing`` only once it is this old (the
# request that made it may still be waiting for the bank; docs/funding.md).
PROCESSING_ASKED_AFTER: Final = timedelta(minutes=5)
# A PSP order unpaid for a day is no longer a payment on its way: the day's reconciliation
# should have closed it.
PSP_ORDER_OVERDUE_AFTER: Final = timedelta(days=1)
LAST_ERROR_SHOWN: Final = 1000
FUNDING_STATES: Final = frozenset({*repo.OPEN_TOPUP_STATES, *repo.OPEN_WITHDRAWAL_STATES})


async def pending_funding(
    services: Services,
    principal: StaffPrincipal,
    *,
    kind: FundingKind | None = None,
    state: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> PendingFundingReport:
    """A page of unfinished top-ups and withdrawals (of ``kind`` and ``state`` if given),
    oldest first, with every open item counted by kind and state, the suspense balances,
    and the ``funding.pending_viewed`` event recording the look (in the same unit).

    Refusals: ``422 validation_error`` (an unknown state, a limit out of range, a
    malformed cursor), before anything is read or recorded.
    """
    limit = check_limit(limit)
    if state is not None and state not in FUNDING_STATES:
        raise ValidationFailedError(f"unknown state {state!r}")
    after = None if cursor is None else _funding_position(cursor)
    now = services.clock.now()
    grace = timedelta(seconds=services.settings.bank_unknown_grace_seconds)

    async def work(uow: UnitOfWork) -> tuple[list[PendingRecord], PendingFundingReport]:
        conn = await uow.connection()
        found = await repo.open_funding(conn, kind=kind, state=state, after=after, limit=limit + 1)
        shown = found[:limit]
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="funding.pending_viewed",
            details={
                "kind": kind,
                "state": state,
                "shown": len(shown),
                "customers": sorted({record.user_id for record in shown}),
            },
        )
        report = PendingFundingReport(
            items=[_pending(record, now, grace) for record in shown],
            next_cursor=None,
            groups=await repo.open_funding_groups(conn),
            suspense=await repo.suspense_balances(conn),
            settle_interval_seconds=services.settings.settle_interval_seconds,
            unknown_grace_seconds=services.settings.bank_unknown_grace_seconds,
        )
        return found, report

    found, report = await run_unit(services.engine, work)
    if len(found) > limit:
        last = found[limit - 1]
        position = {"at": last.created_at.isoformat(), "id": last.id}
        return _with_cursor(report, encode_cursor(position))
    return report


def _with_cursor(report: PendingFundingReport, cursor: str) -> PendingFundingReport:
    return PendingFundingReport(
        items=report.items,
        next_cursor=cursor,
        groups=report.groups,
        suspense=report.suspense,
        settle_interval_seconds=report.settle_interval_seconds,
        unknown_grace_seconds=report.unknown_grace_seconds,
    )


def _pending(record: PendingRecord, now: datetime, grace: timedelta) -> PendingFunding:
    """What finishes an item, and when it counts as overdue (docs/operations.md)."""
    age = now - record.created_at
    held_in: HeldIn | None = None
    settled_by: SettledBy = "settle_job"
    next_inquiry_at: datetime | None = None
    gives_up_at: datetime | None = record.created_at + grace
    if record.kind == "withdrawal":
        held_in = "wallet_hold"
        if record.state == WithdrawalStatus.PROCESSING:
            first_asked = record.created_at + PROCESSING_ASKED_AFTER
            next_inquiry_at = first_asked if first_asked > now else None
    elif record.channel == TopupMethod.CARD:
        held_in = "suspense" if record.in_suspense else None
    else:
        settled_by, gives_up_at = "psp_notice", None
    if gives_up_at is not None:
        overdue = now >= gives_up_at
    else:
        overdue = record.state == TopupStatus.AWAITING_PAYMENT and age >= PSP_ORDER_OVERDUE_AFTER
    return PendingFunding(
        kind=record.kind,
        id=record.id,
        state=record.state,
        channel=record.channel,
        amount=record.amount,
        fee=record.fee,
        user_id=record.user_id,
        phone_masked=mask_phone(record.phone),
        bank_name=record.bank_name,
        card_last_four=record.card_last_four,
        created_at=record.created_at,
        age_seconds=max(0, int(age.total_seconds())),
        held_in=held_in,
        settled_by=settled_by,
        next_inquiry_at=next_inquiry_at,
        gives_up_at=gives_up_at,
        overdue=overdue,
    )


def _funding_position(cursor: str) -> tuple[datetime, str]:
    position = decode_cursor(cursor)
    at, item_id = position.get("at"), position.get("id")
    if not isinstance(at, str) or not isinstance(item_id, str):
        raise ValidationFailedError("malformed cursor")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationFailedError("malformed cursor") from None
    if moment.tzinfo is None:
        raise ValidationFailedError("malformed cursor")
    return moment, item_id


async def outbox_health(
    services: Services,
    *,
    topic: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> OutboxHealth:
    """Every topic's undelivered events by state, and a page of dead events (of ``topic``
    if given), newest first.

    Refusals: ``422 validation_error`` (a limit out of range, a malformed cursor).
    """
    limit = check_limit(limit)
    before_id = None if cursor is None else _dead_position(cursor)
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> tuple[list[TopicHealth], list[OutboxRecord]]:
        conn = await uow.connection()
        buckets = await repo.outbox_buckets(conn, now)
        dead = await repo.dead_events(conn, topic=topic, before_id=before_id, limit=limit + 1)
        topics: dict[str, dict[str, Any]] = {}
        for bucket in buckets:
            health = topics.setdefault(bucket.topic, {"most_attempts": 0})
            health[bucket.state] = bucket.count
            health["most_attempts"] = max(health["most_attempts"], bucket.max_attempts)
            if bucket.state == "due":
                health["oldest_due_at"] = bucket.earliest_available_at
            if bucket.state == "retrying":
                health["next_retry_at"] = bucket.earliest_available_at
        return [_topic(name, counts) for name, counts in sorted(topics.items())], dead

    topics, dead = await run_unit(services.engine, work, read_only=True)
    shown = dead[:limit]
    next_cursor = encode_cursor({"before": shown[-1].id}) if len(dead) > limit else None
    return OutboxHealth(
        topics=topics,
        max_attempts=services.settings.outbox_max_attempts,
        dead=[event_view(record, now) for record in shown],
        next_cursor=next_cursor,
    )


def _topic(name: str, counts: dict[str, Any]) -> TopicHealth:
    return TopicHealth(
        topic=name,
        due=counts.get("due", 0),
        in_flight=counts.get("in_flight", 0),
        retrying=counts.get("retrying", 0),
        scheduled=counts.get("scheduled", 0),
        dead=counts.get("dead", 0),
        most_attempts=counts["most_attempts"],
        oldest_due_at=counts.get("oldest_due_at"),
        next_retry_at=counts.get("next_retry_at"),
    )


def _dead_position(cursor: str) -> int:
    before = decode_cursor(cursor).get("before")
    if not isinstance(before, int) or isinstance(before, bool):
        raise ValidationFailedError("malformed cursor")
    return before


async def replay_outbox_event(
    services: Services, principal: StaffPrincipal, *, event_id: int
) -> OutboxEventView:
    """A dead event due again now, with its attempts reset and ``last_error`` kept;
    ``outbox.replayed`` audited in the same unit, the relay woken after commit.

    Refusals in order, each changing nothing: ``404 not_found``; ``409
    outbox_event_not_dead`` (due, being delivered, waiting for a retry, or delivered).
    Locks the event's row, then the audit chain's head.
    """
    now = services.clock.now()

    async def work(uow: UnitOfWork) -> OutboxEventView:
        conn = await uow.connection()
        found = await repo.locked_event(conn, event_id)
        if found is None:
            raise NotFoundError("no such outbox event")
        if found.status != OutboxStatus.DEAD:
            state = outbox_state(found, now)
            raise OutboxEventNotDeadError(f"outbox event {event_id} is {state}")
        revived = await repo.revive(conn, event_id, now)
        if revived is None:  # pragma: no cover - the row is locked and was dead
            raise OutboxEventNotDeadError(f"outbox event {event_id} is no longer dead")
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="outbox.replayed",
            subject_type="outbox_event",
            subject_id=str(event_id),
            details={"topic": found.topic, "attempts": found.attempts},
        )
        uow.after_commit(services.wake_outbox)
        return event_view(revived, now)

    return await run_unit(services.engine, work)


def outbox_state(record: OutboxRecord, now: datetime) -> EventState:
    """The state :func:`ewallet.ops.health.repository.outbox_buckets` counts it under."""
    if record.status == OutboxStatus.DELIVERED:
        return "delivered"
    if record.status == OutboxStatus.DEAD:
        return "dead"
    if record.available_at <= now:
        return "due"
    if record.claimed:
        return "in_flight"
    return "retrying" if record.attempts > 0 else "scheduled"


def event_view(record: OutboxRecord, now: datetime) -> OutboxEventView:
    """The event without its payload: the ids it names, and its error scrubbed."""
    references = reference_ids(record.payload)
    error = record.last_error
    if error is not None:
        error = scrub(error, record.payload, keep=set(references.values()))
    return OutboxEventView(
        id=record.id,
        topic=record.topic,
        state=outbox_state(record, now),
        attempts=record.attempts,
        last_error=error,
        references=references,
        created_at=record.created_at,
        available_at=record.available_at,
    )


_REFERENCE_KEY: Final = re.compile(r"^[a-z][a-z0-9_]{0,40}_id$")
_REFERENCE_VALUE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_MOBILE: Final = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_SECRET_MIN_LENGTH: Final = 4
REDACTED: Final = "***"


def reference_ids(payload: dict[str, Any]) -> dict[str, str]:
    """The payload's top-level ids (``order_id``, ``bill_payment_id``...): keys ending in
    ``_id`` whose value is a short id, never free text."""
    found: dict[str, str] = {}
    for key, value in payload.items():
        if not _REFERENCE_KEY.match(key) or isinstance(value, bool):
            continue
        if isinstance(value, int) or (isinstance(value, str) and _REFERENCE_VALUE.match(value)):
            found[key] = str(value)
    return found


def scrub(error: str, payload: dict[str, Any], *, keep: set[str]) -> str:
    """``error`` with every other string of the payload and any mobile number blanked, cut
    to :data:`LAST_ERROR_SHOWN` characters: a handler's message may quote what it sent."""
    secrets = {value for value in _strings(payload) if len(value) >= _SECRET_MIN_LENGTH} - keep
    for secret in sorted(secrets, key=len, reverse=True):
        error = error.replace(secret, REDACTED)
    error = _MOBILE.sub(REDACTED, error)
    if len(error) > LAST_ERROR_SHOWN:
        error = error[: LAST_ERROR_SHOWN - 1] + "…"
    return error


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
