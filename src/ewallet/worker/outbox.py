"""Writing to the transactional outbox, and keeping it small.

A service calls :func:`enqueue` with the session of its unit of work: the event row is
inserted in the same transaction as the business change, so both commit or neither does.
Nothing here commits; the relay (:mod:`ewallet.worker.relay`) delivers after commit.

The payload is checked for strict JSON on the way in (``dict``/``list``/``str``/``int``/
finite ``float``/``bool``/``None``, string keys) so that a handler sees exactly what the
service wrote, and so a bad payload fails the use case at its source instead of poisoning
the queue later.

**Woken after commit.** ``enqueue`` also asks the caller's unit of work
(:func:`ewallet.kit.db.uow.unit_of`) to wake this process's relay once the transaction has
committed, so an event leaves at once rather than at the relay's next poll -- for every
feature, with nothing to remember at the call site. A unit that enqueues several events
wakes the relay once. The wake-up is whatever :func:`waking` connected for the engine (the
composition root's ``OutboxDoorbell`` while a relay runs in this process); with none, the
relay's poll (``EWALLET_OUTBOX_POLL_SECONDS``) is the delivery, as it is for a relay in
another process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import unit_of
from ewallet.models.outbox import OutboxEvent, OutboxStatus

TOPIC_MAX_LENGTH: Final = 64  # the width of ``outbox_events.topic``
PURGE_CHUNK: Final = 1000
# Set in a unit's session once its wake-up is registered: N events, one wake-up.
_WAKE_REGISTERED: Final = "ewallet.outbox_wake"

# The wake-up of each engine's relays in this process, keyed by the engine a unit of work
# was opened on (``services.engine``; kept across ``dispose()``, which swaps the pool).
_wakeups: WeakKeyDictionary[Engine, Callable[[], None]] = WeakKeyDictionary()


class OutboxPayloadError(TypeError):
    """The payload of an outbox event is not plain JSON (a programming error, not a 4xx)."""


class OutboxTopicError(ValueError):
    """The topic of an outbox event is empty or too long for its column."""


async def enqueue(
    session: AsyncSession,
    *,
    topic: str,
    payload: dict[str, Any],
    clock: Clock,
    delay: timedelta | None = None,
) -> int:
    """Add an event to the caller's open transaction and return its id.

    Never commits: the event leaves only if the caller's unit of work commits. ``delay``
    holds it back (e.g. a reminder); a negative delay is refused because it would be a
    silent no-op pretending to reorder history.
    """
    check_topic(topic)
    check_json(payload, topic=topic)
    if delay is not None and delay < timedelta(0):
        raise ValueError(f"outbox delay must not be negative, got {delay}")
    now = clock.now()
    statement = (
        insert(OutboxEvent)
        .values(
            topic=topic,
            payload=payload,
            status=OutboxStatus.PENDING,
            attempts=0,
            available_at=now + (delay or timedelta(0)),
            created_at=now,
        )
        .returning(OutboxEvent.id)
    )
    result = await session.execute(statement)
    _wake_after_commit(session)
    return int(result.scalar_one())


@contextmanager
def waking(engine: AsyncEngine, wake: Callable[[], None]) -> Iterator[None]:
    """While the block runs, call ``wake`` after each commit on ``engine`` that enqueued.

    The composition root connects its relays' doorbell here for as long as they run
    (``ewallet worker``, the API's embedded relay). ``wake`` runs on the committing task's
    event loop: it must be cheap and must not raise (an ``asyncio.Event.set``).
    """
    key = engine.sync_engine
    _wakeups[key] = wake
    try:
        yield
    finally:
        if _wakeups.get(key) is wake:
            del _wakeups[key]


def _wake_after_commit(session: AsyncSession) -> None:
    """Register the relay's wake-up on the unit owning ``session``, once per unit."""
    if session.info.get(_WAKE_REGISTERED):
        return
    unit = unit_of(session)
    if unit is None:  # a session of its own (a script, a test): the poll delivers
        return
    session.info[_WAKE_REGISTERED] = True
    unit.after_commit(partial(_ring, unit.engine.sync_engine))


def _ring(key: Engine) -> None:
    # Looked up at commit, not at enqueue: a relay connected in between is woken too.
    wake = _wakeups.get(key)
    if wake is not None:
        wake()


def check_topic(topic: str) -> None:
    """Refuse a topic that would not fit its column or would never match a handler."""
    if not topic or len(topic) > TOPIC_MAX_LENGTH or topic != topic.strip():
        raise OutboxTopicError(
            f"outbox topic must be 1-{TOPIC_MAX_LENGTH} characters without surrounding "
            f"spaces, got {topic!r}"
        )


def check_json(payload: Any, *, topic: str) -> None:
    """Raise :class:`OutboxPayloadError` naming the first value that is not plain JSON."""
    if not isinstance(payload, dict):
        raise OutboxPayloadError(
            f"outbox payload for topic {topic!r} must be a dict, got {type(payload).__name__}"
        )
    problem = _first_problem(payload, "payload")
    if problem is not None:
        raise OutboxPayloadError(f"outbox payload for topic {topic!r} is not JSON: {problem}")


def _first_problem(value: Any, path: str) -> str | None:
    # Exact types: a bool is an int and an IntEnum is an int too, but only the former
    # round-trips through JSON unchanged, so subclasses (enums, Decimal-likes) are refused.
    kind = type(value)
    if value is None or kind in (str, int, bool):
        return None
    if kind is float:
        return None if math.isfinite(value) else f"{path} is {value!r} (not finite)"
    if kind is list:
        children = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    elif kind is dict:
        for key in value:
            if type(key) is not str:
                return f"{path} has a {type(key).__name__} key {key!r} (keys must be str)"
        children = [(f"{path}[{key!r}]", item) for key, item in value.items()]
    else:
        hint = (
            "use a list"
            if kind in (tuple, set, frozenset)
            else "convert it: str(), .isoformat(), or money as minor units + currency"
        )
        return f"{path} is a {kind.__name__} ({hint})"
    for child_path, item in children:
        problem = _first_problem(item, child_path)
        if problem is not None:
            return problem
    return None


async def purge_delivered(
    engine: AsyncEngine,
    *,
    clock: Clock,
    older_than: timedelta,
    chunk: int = PURGE_CHUNK,
) -> int:
    """Delete delivered events delivered before ``now - older_than``; return how many.

    Dead events are kept: they are the record of what never left and may be requeued.
    Deletes go in chunks of short transactions so the purge never holds the SQLite write
    lock (or a long PostgreSQL transaction) while a relay waits to claim.
    """
    if older_than < timedelta(0):
        raise ValueError(f"older_than must not be negative, got {older_than}")
    cutoff = clock.now() - older_than
    total = 0
    while True:
        doomed = (
            select(OutboxEvent.id)
            .where(OutboxEvent.status == OutboxStatus.DELIVERED, OutboxEvent.delivered_at < cutoff)
            .order_by(OutboxEvent.id)
            .limit(chunk)
            .scalar_subquery()
        )
        async with engine.begin() as connection:
            result = await connection.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(doomed)))
        deleted = int(result.rowcount)
        total += deleted
        if deleted < chunk:
            return total


async def requeue_dead(
    engine: AsyncEngine,
    *,
    clock: Clock,
    ids: Sequence[int] | None = None,
    topic: str | None = None,
) -> int:
    """Give dead events (all, these ``ids``, or this ``topic``) a fresh set of attempts.

    For operators once the cause is fixed, e.g. a handler that was missing is deployed.
    ``last_error`` is kept so the history of the event stays readable.
    """
    statement = (
        update(OutboxEvent)
        .where(OutboxEvent.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, claimed_by=None, available_at=clock.now())
    )
    if ids is not None:
        statement = statement.where(OutboxEvent.id.in_(ids))
    if topic is not None:
        statement = statement.where(OutboxEvent.topic == topic)
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return int(result.rowcount)
