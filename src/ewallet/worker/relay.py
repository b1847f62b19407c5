"""The outbox relay: claim due events in a short transaction, deliver them after commit.

Why this shape:

* **Claim, commit, then deliver.** A handler sends SMS, email or webhooks; holding a
  database transaction (and on SQLite the single write lock) across that I/O would stall
  every writer. The claim is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``
  that pushes ``available_at`` to ``now + lease`` and stamps ``claimed_by``; on PostgreSQL
  the inner select is ``FOR UPDATE SKIP LOCKED`` so N relays take disjoint batches without
  waiting on each other; on SQLite ``BEGIN IMMEDIATE`` (set up by the engine) already
  serializes claimers.
* **Leases, not locks, for crash safety.** A relay that dies leaves its events claimed
  until the lease runs out; then anyone claims them again: delivery is at least once.
* **Guarded outcomes.** Every outcome update requires ``claimed_by = me`` and the
  ``attempts`` value of my claim, so a relay whose lease ran out while its handler was
  slow cannot overwrite the outcome of the relay that took the event over.
* **Bounded retries.** Failures back off exponentially with jitter (capped); after
  ``max_attempts`` the event is ``dead``. An event claimed more often than that without
  an outcome (it keeps crashing its worker) is declared dead instead of delivered again.
* **Concurrent, in order where it matters.** A batch's events are delivered up to
  ``concurrency`` at a time (``EWALLET_OUTBOX_CONCURRENCY``): one slow merchant or SMS
  provider no longer holds up everything claimed behind it. Events with the same
  ordering key (:meth:`~ewallet.worker.registry.HandlerRegistry.ordering_key`: an order's
  webhooks, one phone's SMS) form a lane, delivered one after another in id order by one
  task; lanes run side by side. Each event keeps its own outcome: a failing handler or a
  handler's timeout touches only its event. As before, a failed event's retry comes after
  the events behind it, and events in different batches or relays have no order.

Outcomes are counted in ``OUTBOX_DELIVERIES`` as ``delivered``, ``retry`` or ``dead``, and
``lost`` when a relay finished an event whose claim had meanwhile passed to another relay
(a duplicate delivery: handlers are idempotent, but a rising ``lost`` means the lease is
too short for the handlers).

Every time comes from the injected :class:`~ewallet.kit.clock.Clock`; handler run time is
also bounded by the remaining lease in real seconds.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import Clock
from ewallet.kit.db.engine import is_sqlite
from ewallet.kit.metrics import OUTBOX_DELIVERIES
from ewallet.models.outbox import OutboxEvent, OutboxStatus
from ewallet.worker.registry import DeliveredEvent, Handler, HandlerRegistry, handler_name

log = structlog.get_logger(__name__)

WORKER_ID_MAX_LENGTH: Final = 64  # the width of ``outbox_events.claimed_by``
LAST_ERROR_MAX_LENGTH: Final = 2000
MAX_ERROR_PAUSE_SECONDS: Final = 30.0
DEFAULT_CONCURRENCY: Final = 16  # EWALLET_OUTBOX_CONCURRENCY's default


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    """An event this relay holds until ``lease_until``."""

    event: DeliveredEvent
    lease_until: datetime


def backoff_delay(
    attempt: int, *, base: timedelta, cap: timedelta, rng: random.Random
) -> timedelta:
    """Delay after failed attempt ``attempt`` (1-based): ``base * 2**(attempt-1)``, capped.

    "Equal jitter": the result lies in ``[d/2, d]`` so retries of events that failed together
    spread out, yet never come back sooner than half the nominal delay.
    """
    nominal = min(cap.total_seconds(), base.total_seconds() * 2.0 ** min(attempt - 1, 62))
    return timedelta(seconds=nominal * (0.5 + 0.5 * rng.random()))


class OutboxRelay:
    """Claims and delivers outbox events; run several (distinct ``worker_id``) for throughput."""

    def __init__(
        self,
        engine: AsyncEngine,
        registry: HandlerRegistry,
        clock: Clock,
        *,
        worker_id: str,
        batch_size: int = 100,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 12,
        backoff_base: timedelta = timedelta(seconds=2),
        backoff_cap: timedelta = timedelta(hours=1),
        concurrency: int = DEFAULT_CONCURRENCY,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < len(worker_id) <= WORKER_ID_MAX_LENGTH:
            raise ValueError(f"worker_id must be 1-{WORKER_ID_MAX_LENGTH} characters")
        if batch_size < 1 or max_attempts < 1 or concurrency < 1:
            raise ValueError("batch_size, max_attempts and concurrency must be at least 1")
        if lease <= timedelta(0) or backoff_base <= timedelta(0) or backoff_cap < backoff_base:
            raise ValueError("lease and backoff_base must be positive, backoff_cap >= base")
        self.engine = engine
        self.registry = registry
        self.clock = clock
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.concurrency = concurrency
        # Jitter only spreads retries out; it guards nothing, so a PRNG is right here.
        self._rng = rng or random.Random()  # noqa: S311
        self._sqlite = is_sqlite(engine)
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Wake :meth:`run_forever` now, e.g. from ``uow.after_commit(relay.notify)``
        (``enqueue`` arranges that itself through :func:`ewallet.worker.outbox.waking`).

        Call it from the relay's event loop (asyncio events are not thread-safe). Several
        calls before the relay looks are one wake-up: it claims everything due at once.
        """
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch of due events and deliver it; return how many got an outcome."""
        return await self.deliver(await self.claim())

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Deliver everything due when the drain started; return how many got an outcome.

        Retries scheduled during the drain are left for the next run, so a failing
        handler cannot keep a ``--once`` run (cron, tests) going.
        """
        due_by = self.clock.now()
        total = 0
        while stop is None or not stop.is_set():
            claims = await self.claim(due_by=due_by)
            if not claims:
                break
            total += await self.deliver(claims, stop=stop)
        return total

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        """Deliver until ``stop`` is set: a full batch loops at once, otherwise wait for
        :meth:`notify`, ``stop`` or ``poll_seconds``. A database error is logged and the
        loop pauses (doubling, at most 30 s) instead of dying: the next round retries it.
        """
        errors = 0
        while not stop.is_set():
            # Cleared before claiming so a notify() that lands mid-batch is not lost.
            self._wake.clear()
            try:
                claims = await self.claim()
                await self.deliver(claims, stop=stop)
            except Exception:
                errors += 1
                pause = min(poll_seconds * 2.0 ** min(errors, 16), MAX_ERROR_PAUSE_SECONDS)
                log.exception("outbox.relay_error", worker_id=self.worker_id, pause=pause)
                await self._wait(stop, pause, wakeable=False)
                continue
            errors = 0
            if len(claims) < self.batch_size:
                await self._wait(stop, poll_seconds, wakeable=True)

    async def _wait(self, stop: asyncio.Event, seconds: float, *, wakeable: bool) -> None:
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def claim(self, *, due_by: datetime | None = None) -> list[ClaimedEvent]:
        """Take up to ``batch_size`` due events in one short transaction, ordered by id."""
        now = self.clock.now()
        due = now if due_by is None else min(due_by, now)
        lease_until = now + self.lease
        candidates = (
            select(OutboxEvent.id)
            .where(OutboxEvent.status == OutboxStatus.PENDING, OutboxEvent.available_at <= due)
            .order_by(OutboxEvent.id)
            .limit(self.batch_size)
        )
        if not self._sqlite:
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(candidates.scalar_subquery()))
            .values(
                available_at=lease_until,
                claimed_by=self.worker_id,
                attempts=OutboxEvent.attempts + 1,
            )
            .returning(
                OutboxEvent.id,
                OutboxEvent.topic,
                OutboxEvent.payload,
                OutboxEvent.attempts,
                OutboxEvent.created_at,
            )
        )
        async with self.engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        # RETURNING promises no order; delivery order within a batch is by id.
        return [
            ClaimedEvent(
                event=DeliveredEvent(
                    id=row.id,
                    topic=row.topic,
                    payload=row.payload,
                    attempts=row.attempts,
                    created_at=row.created_at,
                ),
                lease_until=lease_until,
            )
            for row in sorted(rows, key=lambda row: int(row.id))
        ]

    async def deliver(
        self, claims: Sequence[ClaimedEvent], *, stop: asyncio.Event | None = None
    ) -> int:
        """Deliver claimed events and record each outcome; return how many got one.

        ``claims`` in id order (as :meth:`claim` returns them) are split into lanes by
        ordering key; at most ``concurrency`` tasks each take a lane at a time and deliver
        its events one after another. When ``stop`` is set, or an event's lease already
        ran out before its turn, the claim is handed back untouched (attempt not counted)
        instead of delivered. A database error while recording an outcome ends that lane
        only (its remaining claims keep their leases and come back after them); the other
        lanes finish, then the first such error is raised for the caller to pause on.
        """
        lanes: deque[list[ClaimedEvent]] = deque(self._lanes(claims))
        handled = 0
        errors: list[Exception] = []

        async def take_lanes() -> None:
            nonlocal handled
            while lanes:
                lane = lanes.popleft()
                try:
                    # Awaited first: ``handled += await ...`` would read ``handled`` before
                    # the await and lose the other lanes' counts.
                    count = await self._deliver_lane(lane, stop)
                except Exception as error:  # raised below, once the other lanes are done
                    errors.append(error)
                else:
                    handled += count

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self.concurrency, len(lanes))):
                group.create_task(take_lanes())
        if errors:
            raise errors[0]
        return handled

    def _lanes(self, claims: Sequence[ClaimedEvent]) -> list[list[ClaimedEvent]]:
        """Claims grouped by ordering key, each lane in the claims' (id) order; lanes are
        ordered by their first event, so the oldest waiting event starts first."""
        lanes: dict[Hashable, list[ClaimedEvent]] = {}
        for claim in claims:
            lanes.setdefault(self.registry.ordering_key(claim.event), []).append(claim)
        return list(lanes.values())

    async def _deliver_lane(self, lane: Sequence[ClaimedEvent], stop: asyncio.Event | None) -> int:
        handled = 0
        for index, claim in enumerate(lane):
            if stop is not None and stop.is_set():
                for rest in lane[index:]:
                    await self._release(rest.event)
                break
            if claim.lease_until <= self.clock.now():
                await self._release(claim.event)
                continue
            await self._deliver_one(claim)
            handled += 1
        return handled

    async def _deliver_one(self, claim: ClaimedEvent) -> None:
        event = claim.event
        handlers = self.registry.handlers_for(event.topic)
        if not handlers:
            await self._dead(event, f"no handler registered for topic {event.topic!r}")
            return
        if event.attempts > self.max_attempts:
            # Only reachable when earlier claims never reported back: the event likely
            # crashes its worker, so stop feeding it to workers.
            await self._dead(
                event,
                f"claimed {event.attempts} times (max_attempts {self.max_attempts}) "
                "without an outcome; the worker probably crashed while delivering it",
            )
            return
        error = await self._call(handlers, claim)
        if error is None:
            changed = await self._finish(
                event, status=OutboxStatus.DELIVERED, delivered_at=self.clock.now()
            )
            self._count(event, "delivered" if changed else "lost")
        elif event.attempts >= self.max_attempts:
            await self._dead(event, error)
        else:
            delay = backoff_delay(
                event.attempts, base=self.backoff_base, cap=self.backoff_cap, rng=self._rng
            )
            changed = await self._finish(
                event,
                available_at=self.clock.now() + delay,
                last_error=_truncate(error),
                claimed_by=None,
            )
            self._count(event, "retry" if changed else "lost")
            log.warning(
                "outbox.retry",
                event_id=event.id,
                topic=event.topic,
                attempts=event.attempts,
                delay_seconds=round(delay.total_seconds(), 3),
                error=error,
            )

    async def _call(self, handlers: Sequence[Handler], claim: ClaimedEvent) -> str | None:
        """Run the handlers; ``None`` on success, else the error text for ``last_error``."""
        budget = (claim.lease_until - self.clock.now()).total_seconds()
        current = handlers[0]
        timeout = asyncio.timeout(budget)
        try:
            async with timeout:
                for current in handlers:
                    # A copy each, so a handler that mutates its payload cannot change
                    # what the next handler (or the next attempt) sees.
                    await current(replace(claim.event, payload=copy.deepcopy(claim.event.payload)))
        except Exception as error:
            if timeout.expired():
                reason = f"timed out after {budget:.1f}s (the remaining lease)"
            else:
                reason = f"{type(error).__name__}: {error}"
            log.warning(
                "outbox.handler_failed",
                event_id=claim.event.id,
                topic=claim.event.topic,
                handler=handler_name(current),
                exc_info=True,
            )
            return f"{handler_name(current)}: {reason}"
        return None

    async def _dead(self, event: DeliveredEvent, error: str) -> None:
        changed = await self._finish(
            event, status=OutboxStatus.DEAD, last_error=_truncate(error), claimed_by=None
        )
        self._count(event, "dead" if changed else "lost")
        if changed:
            log.error("outbox.dead", event_id=event.id, topic=event.topic, error=error)

    async def _release(self, event: DeliveredEvent) -> None:
        """Hand an undelivered claim back: due now, attempt not counted."""
        await self._finish(
            event,
            available_at=self.clock.now(),
            claimed_by=None,
            attempts=OutboxEvent.attempts - 1,
        )

    async def _finish(self, event: DeliveredEvent, **values: Any) -> bool:
        """Apply ``values`` only if this relay still holds this claim; say if it did."""
        statement = (
            update(OutboxEvent)
            .where(
                OutboxEvent.id == event.id,
                OutboxEvent.status == OutboxStatus.PENDING,
                OutboxEvent.claimed_by == self.worker_id,
                OutboxEvent.attempts == event.attempts,
            )
            .values(**values)
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(statement)
        if result.rowcount == 0:
            log.warning(
                "outbox.claim_lost",
                event_id=event.id,
                topic=event.topic,
                worker_id=self.worker_id,
            )
            return False
        return True

    def _count(self, event: DeliveredEvent, outcome: str) -> None:
        OUTBOX_DELIVERIES.labels(topic=event.topic, outcome=outcome).inc()


def _truncate(error: str) -> str:
    if len(error) <= LAST_ERROR_MAX_LENGTH:
        return error
    return error[: LAST_ERROR_MAX_LENGTH - 1] + "…"
