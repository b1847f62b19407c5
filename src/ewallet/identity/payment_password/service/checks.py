"""The PIN check and its attempt budget (the package doc says why it is shaped so)."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, audit_user
from ewallet.config import Settings
from ewallet.identity.errors import (
    PaymentPasswordInvalidError,
    PaymentPasswordLockedError,
    PaymentPasswordNotSetError,
)
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password import repository as repo
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, ServerBusyError
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.security.context import SecurityContext
from ewallet.services import Services

R = TypeVar("R")

# A reserved check not settled within this long was abandoned (its process died).
STALE_CHECK: Final = timedelta(seconds=60)
# How often a check waiting for a free slot of the budget looks again (how long it waits
# is ``payment_password_slot_wait_seconds``).
SLOT_POLL_SECONDS: Final = 0.01
# The Retry-After of a check that found no free slot in time (server_busy).
BUSY_RETRY_AFTER_SECONDS: Final = 1


def _seconds_until(later: datetime, now: datetime) -> int:
    return max(1, math.ceil((later - now).total_seconds()))


async def verify_payment_password(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    security: SecurityContext,
    user_id: str,
    pin: str,
    actor: Actor,
) -> str:
    """Return if ``pin`` is the user's payment password, else raise (see the package doc).

    Call it before opening the money-moving unit of work (it commits the attempt count in
    units of its own, and hashing must not run inside a transaction); then call
    :func:`ensure_not_frozen` inside that unit. Returns the stored hash that matched, which
    lets a PIN change detect a concurrent change; other callers ignore it.
    """
    check = pin_check(clock, settings, user_id=user_id, actor=actor)
    slot = await reserve_slot(
        engine,
        check.reserve,
        check.might_reserve,
        wait_seconds=settings.payment_password_slot_wait_seconds,
    )
    await compare_or_refuse(engine, security, check, stored_hash=slot.stored_hash, pin=pin)
    await run_unit(engine, check.settle_correct)
    return slot.stored_hash


def pin_check(clock: Clock, settings: Settings, *, user_id: str, actor: Actor) -> PinCheck:
    return PinCheck(
        clock=clock,
        budget=settings.payment_password_max_failures,
        lock_for=timedelta(hours=settings.payment_password_lock_hours),
        user_id=user_id,
        actor=actor,
    )


async def compare_or_refuse(
    engine: AsyncEngine, security: SecurityContext, check: PinCheck, *, stored_hash: str, pin: str
) -> None:
    """argon2 outside any transaction; a wrong PIN (or a check that failed midway) settles
    its slot as a wrong entry and raises. A correct one returns with its slot still held:
    the caller settles it (:meth:`PinCheck.settle_correct`)."""
    well_formed = len(pin) == 6 and pin.isascii() and pin.isdigit()
    try:
        correct = well_formed and await security.pins.verify(stored_hash, pin)
    except Exception:
        # A check that failed midway counts as a wrong entry.
        await run_unit(engine, lambda uow: check.settle(uow, correct=False))
        raise
    if not correct:
        refusal = await run_unit(engine, lambda uow: check.settle(uow, correct=False))
        assert refusal is not None  # a wrong entry is always refused
        raise refusal


async def require_payment_password(
    services: Services, *, user_id: str, pin: str, actor: Actor
) -> None:
    """The PIN check every money use case makes before its unit of work (the package doc).

    Refusals, in order: ``account_frozen``, ``payment_password_not_set``,
    ``payment_password_locked`` (``retry_after``), ``payment_password_invalid``
    (``remaining_attempts``); ``server_busy`` when no slot of the budget frees in time.
    """
    await verify_payment_password(
        services.engine,
        clock=services.clock,
        settings=services.settings,
        security=services.security,
        user_id=user_id,
        pin=pin,
        actor=actor,
    )


def _locked(until: datetime, now: datetime) -> PaymentPasswordLockedError:
    return PaymentPasswordLockedError(
        "too many wrong payment passwords; reset it or wait",
        retry_after=_seconds_until(until, now),
    )


@dataclass(frozen=True, slots=True)
class Slot:
    """A slot of the attempt budget this check took: the stored hash to compare with, and
    whether other checks of the same user were in flight when it was taken."""

    stored_hash: str
    shared: bool


@dataclass(frozen=True, slots=True)
class PinCheck:
    """One PIN check's two units: reserving a slot of the budget, and settling it."""

    clock: Clock
    budget: int
    lock_for: timedelta
    user_id: str
    actor: Actor

    async def reserve(self, uow: UnitOfWork) -> Slot | DomainError | None:
        """Take one of the budget's slots (:class:`Slot`); None when every slot is held by a
        check in flight; an error to raise when expiring abandoned checks locked the PIN."""
        user = await locked_user(uow, self.user_id)
        ensure_active(user)
        if user.payment_password_hash is None:
            raise PaymentPasswordNotSetError("set a payment password first")
        now = self.clock.now()
        if user.payment_locked_until is not None:
            if user.payment_locked_until > now:
                raise _locked(user.payment_locked_until, now)
            user.payment_locked_until = None  # the lock has been served: a fresh budget
            user.payment_failures = 0
        since = user.payment_checks_since
        if since is not None and now - since > STALE_CHECK and user.payment_checks_in_flight:
            # Left by a process that died mid-check: each counts as a wrong entry.
            user.payment_failures += user.payment_checks_in_flight
            user.payment_checks_in_flight = 0
            if user.payment_failures >= self.budget:
                user.payment_locked_until = now + self.lock_for
                return _locked(user.payment_locked_until, now)  # raised once this commits
        if user.payment_failures + user.payment_checks_in_flight >= self.budget:
            return None
        shared = user.payment_checks_in_flight > 0
        user.payment_checks_in_flight += 1
        user.payment_checks_since = now
        return Slot(user.payment_password_hash, shared=shared)

    async def might_reserve(self, uow: UnitOfWork) -> bool:
        """Whether :meth:`reserve` could take a slot now, read without any lock: a check
        waiting for a slot polls this, so waiting checks do not queue on the user's row
        lock ahead of the money units and settlements that hold or free the slots."""
        state = await repo.budget_state(await uow.connection(), self.user_id)
        if state is None or state.locked_until is not None:
            return True  # reserve answers (or serves) the lock
        now = self.clock.now()
        since = state.checks_since
        if since is not None and now - since > STALE_CHECK and state.checks_in_flight:
            return True
        return state.failures + state.checks_in_flight < self.budget

    async def settle_correct(self, uow: UnitOfWork, *, locked: User | None = None) -> None:
        """Free a correct check's slot and clear the count of wrong entries; ``locked`` is
        the user's row when this unit holds its lock already (the money unit's spender)."""
        await self.settle(uow, correct=True, locked=locked)

    async def settle(
        self, uow: UnitOfWork, *, correct: bool, locked: User | None = None
    ) -> DomainError | None:
        """Free the slot; count a wrong entry (locking on the last), or clear the count."""
        user = locked if locked is not None else await locked_user(uow, self.user_id)
        user.payment_checks_in_flight = max(0, user.payment_checks_in_flight - 1)
        if user.payment_checks_in_flight == 0:
            user.payment_checks_since = None  # nothing in flight: the row is as it was
        if correct:
            user.payment_failures = 0
            return None
        now = self.clock.now()
        user.payment_failures += 1
        if user.payment_failures < self.budget:
            remaining = self.budget - user.payment_failures
            details = {"remaining_attempts": remaining}
            await audit_user(
                uow, self.clock, self.actor, "payment_password.wrong", self.user_id, details=details
            )
            return PaymentPasswordInvalidError(
                "wrong payment password", remaining_attempts=remaining
            )
        until = user.payment_locked_until
        if until is None or until <= now:  # this try spent the budget: lock, tell the owner once
            until = user.payment_locked_until = now + self.lock_for
            await notify_user(
                uow.session,
                clock=self.clock,
                user=user,
                kind="payment_password_locked",
                params={"until": until.isoformat(timespec="minutes")},
            )
            spent: dict[str, Any] = {"failures": user.payment_failures}
            spent["until"] = until.isoformat()
            await audit_user(
                uow, self.clock, self.actor, "payment_password.locked", self.user_id, details=spent
            )
        return _locked(until, now)


async def reserve_slot(
    engine: AsyncEngine,
    reserve: Callable[[UnitOfWork], Awaitable[R | DomainError | None]],
    might_reserve: Callable[[UnitOfWork], Awaitable[bool]],
    *,
    wait_seconds: float,
) -> R:
    """Reserve a check, waiting while the budget's slots are all held by checks in flight;
    return what ``reserve`` returned once it took a slot.

    Waiting (not refusing) lets one user's parallel payments all go through with the right
    PIN, while parallel guesses still get no more tries than the budget allows. Waiting in
    vain is the server's load, not the user's mistake: ``server_busy``, nothing counted.
    """
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        reserved = await run_unit(engine, reserve)
        if isinstance(reserved, DomainError):
            raise reserved
        if reserved is not None:
            return reserved
        if asyncio.get_running_loop().time() >= deadline:
            raise ServerBusyError(
                "other payment-password checks are in progress; nothing was counted, try again",
                retry_after=BUSY_RETRY_AFTER_SECONDS,
            )
        # Wait with plain reads until a slot looks free; only then lock the row again.
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(SLOT_POLL_SECONDS * (1 + random.random()))  # noqa: S311 -- jitter
            if await run_unit(engine, might_reserve, read_only=True):
                break
