"""Maintenance windows: scheduling, cancelling, and the per-process cache enforcement reads.

A window is ``[starts_at, ends_at)``; while one is in force, every write but the few an
operator needs is refused (:mod:`ewallet.ops.enforcement`). Windows that overlap or touch
chain into one stretch of maintenance, and ``Retry-After`` points at the end of the whole
stretch.

Cache and staleness: each process keeps the list of windows not yet ended -- one
:class:`MaintenanceSchedule` per database engine, i.e. per app -- and re-reads it at most
once per :data:`CACHE_SECONDS` (1 s), so enforcement costs no query per request. Starts
and ends are evaluated against the clock on every request, so a scheduled window begins
and ends on time exactly. Only *changes* are subject to the cache: a window created or
cancelled through this process takes effect here at once, and in every other process
within ``CACHE_SECONDS`` (plus the time of one read). If the schedule cannot be read, the
last known one (or none) is used until the next try: enforcement fails open.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import record_event
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, NotFoundError, ValidationFailedError
from ewallet.kit.ids import new_id
from ewallet.ops import repository as repo
from ewallet.ops.views import ActiveMaintenance, MaintenanceNow, Window
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal

CACHE_SECONDS: Final = 1.0
# A window "starting now" may arrive a little late; older starts are a mistake.
START_TOLERANCE: Final = timedelta(seconds=60)
log = structlog.get_logger("ewallet.ops.maintenance")


async def schedule_window(
    services: Services,
    principal: StaffPrincipal,
    *,
    starts_at: datetime,
    ends_at: datetime,
    message: str | None,
) -> Window:
    """Schedule a window (``maintenance.scheduled`` audited); it takes effect in this
    process at once, in others within :data:`CACHE_SECONDS`.

    Refusals, all ``422 validation_error``, in order: a time without a UTC offset;
    ``ends_at`` not after ``starts_at``; ``starts_at`` more than a minute in the past.
    """
    now = services.clock.now()
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationFailedError("times need a UTC offset (RFC 3339)")
    if ends_at <= starts_at:
        raise ValidationFailedError("ends_at must be after starts_at")
    if starts_at < now - START_TOLERANCE:
        raise ValidationFailedError("starts_at is in the past")
    window_id = new_id("mw")

    async def work(uow: UnitOfWork) -> Window:
        conn = await uow.connection()
        await repo.insert_window(
            conn,
            window_id=window_id,
            starts_at=starts_at,
            ends_at=ends_at,
            message=message,
            created_by=principal.staff_id,
            created_at=now,
        )
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="maintenance.scheduled",
            subject_type="maintenance_window",
            subject_id=window_id,
            details={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        )
        row = await repo.window_by_id(conn, window_id)
        assert row is not None  # inserted just now, in this unit
        return row.window

    window = await run_unit(services.engine, work)
    schedule_of(services.engine).invalidate()
    return window


async def list_windows(services: Services) -> list[Window]:
    """Windows in force or to come, earliest first (read fresh, not from the cache)."""
    return await _read_windows(services.engine, services.clock)


async def cancel_window(services: Services, principal: StaffPrincipal, *, window_id: str) -> None:
    """Cancel a window that has not ended (``maintenance.cancelled`` audited); one in force
    ends at once (writes resume), in other processes within :data:`CACHE_SECONDS`.

    Refusals in order: ``404 not_found`` (unknown or already cancelled); ``409 conflict``
    (the window has ended). Locks the window row ``FOR UPDATE``.
    """

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        row = await repo.window_by_id(conn, window_id, for_update=True)
        if row is None or row.cancelled_at is not None:
            raise NotFoundError("no such maintenance window")
        now = services.clock.now()
        if row.window.ends_at <= now:
            raise ConflictError("the window has already ended")
        await repo.cancel(conn, window_id, now)
        await record_event(
            conn,
            clock=services.clock,
            actor=principal.actor(),
            action="maintenance.cancelled",
            subject_type="maintenance_window",
            subject_id=window_id,
            details={"was_active": row.window.starts_at <= now},
        )

    await run_unit(services.engine, work)
    schedule_of(services.engine).invalidate()


async def current_maintenance(services: Services) -> ActiveMaintenance | None:
    """The maintenance in force now, from the per-process cache (no query per call)."""
    return await schedule_of(services.engine).active(services.engine, services.clock)


async def maintenance_now(services: Services) -> MaintenanceNow:
    """The maintenance in force and the windows to come, from the per-process cache (the
    public banner endpoint polls this)."""
    windows = await schedule_of(services.engine).windows(services.engine, services.clock)
    now = services.clock.now()
    upcoming = [window for window in windows if window.starts_at > now]
    return MaintenanceNow(active_maintenance(windows, now), upcoming)


def active_maintenance(windows: Sequence[Window], now: datetime) -> ActiveMaintenance | None:
    """The window in force at ``now`` and the end of its unbroken stretch, or None."""
    current = [w for w in windows if w.starts_at <= now < w.ends_at]
    if not current:
        return None
    until = max(w.ends_at for w in current)
    for window in sorted(windows, key=lambda w: w.starts_at):
        if window.starts_at <= until < window.ends_at:
            until = window.ends_at
    return ActiveMaintenance(max(current, key=lambda w: w.starts_at), until)


async def _read_windows(engine: AsyncEngine, clock: Clock) -> list[Window]:
    async def work(uow: UnitOfWork) -> list[Window]:
        return await repo.not_ended(await uow.connection(), clock.now())

    return await run_unit(engine, work, read_only=True)


class MaintenanceSchedule:
    """The windows not yet ended, re-read at most once per ``ttl_seconds`` (see module doc)."""

    def __init__(
        self,
        *,
        ttl_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._windows: list[Window] | None = None
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()  # coalesces reloads; correctness never depends on it

    def invalidate(self) -> None:
        self._fresh_until = 0.0

    async def windows(self, engine: AsyncEngine, clock: Clock) -> list[Window]:
        if self._windows is not None and self._monotonic() < self._fresh_until:
            return self._windows
        async with self._lock:
            if self._windows is not None and self._monotonic() < self._fresh_until:
                return self._windows
            try:
                self._windows = await _read_windows(engine, clock)
            except Exception:
                # Fail open: keep the last known schedule (none, if never read) until the
                # next try, rather than answer every write with a 500. A database that
                # cannot be read will refuse those writes itself.
                log.warning("maintenance.reload_failed", exc_info=True)
                if self._windows is None:
                    self._windows = []
            self._fresh_until = self._monotonic() + self._ttl
            return self._windows

    async def active(self, engine: AsyncEngine, clock: Clock) -> ActiveMaintenance | None:
        return active_maintenance(await self.windows(engine, clock), clock.now())


_schedules: weakref.WeakKeyDictionary[AsyncEngine, MaintenanceSchedule] = (
    weakref.WeakKeyDictionary()
)


def schedule_of(engine: AsyncEngine) -> MaintenanceSchedule:
    """The schedule cache of the database behind ``engine``: one per engine, i.e. per app
    (per process, and per test app), made on first use and gone with the engine."""
    schedule = _schedules.get(engine)
    if schedule is None:
        schedule = _schedules[engine] = MaintenanceSchedule()
    return schedule
