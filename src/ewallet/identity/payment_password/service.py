"""The 6-digit payment password (PIN): setting it, and checking it before money moves.

Which PINs an account may pick is :mod:`ewallet.identity.payment_password.policy`.

A PIN has only a million values, so what protects it is the attempt budget: 3 wrong
entries lock it for 3 hours (``payment_password_max_failures``/``_lock_hours``), kept in the
``users`` row so every process sees the same lock, and a successful reset unlocks it.

Counting is done by *reserving* a slot of the budget before the argon2 check, in a unit of
its own that commits: settled failures plus checks in flight never exceed the budget, so N
parallel guesses can never get more than the budget past the check (each reservation takes
the row lock in turn). A check that finds every slot held waits for one (up to
``payment_password_slot_wait_seconds``) instead of failing, so a user's parallel payments
with the right PIN all go through. If no slot frees up in time the server is busy, not the
user wrong: ``503 server_busy`` with ``Retry-After``, nothing reserved, nothing counted --
a PIN that was never compared is never answered as a guess. Settling a check frees its
slot: a correct PIN sets consecutive failures back to 0; a wrong one adds a failure, and the
one that spends the budget locks the PIN and tells the owner. A slot left by a process that
died mid-check expires after ``STALE_CHECK``.
argon2 runs outside any transaction, so a PIN check never holds a row lock -- or SQLite's
write lock -- for the tens of milliseconds it costs.

Money use cases (their services, never their endpoints) call
:func:`require_payment_password` before their unit of work; refusals come in this order:
``account_frozen`` → ``payment_password_not_set`` → ``payment_password_locked``
(``retry_after``) → ``payment_password_invalid`` (``remaining_attempts``). The money unit
then calls :func:`ensure_not_frozen`, so a freeze landing between the PIN check and the
money moving is still seen, under the row lock.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, audit_user
from ewallet.config import Settings
from ewallet.identity.change_caps import payment_password_cap, take_change
from ewallet.identity.errors import (
    PaymentPasswordAlreadySetError,
    PaymentPasswordInvalidError,
    PaymentPasswordLockedError,
    PaymentPasswordNotSetError,
)
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.login_digits import pin_matches_login_digits
from ewallet.identity.payment_password import repository as repo
from ewallet.identity.payment_password.policy import (
    check_payment_password_for_user,
    ensure_apart_from_login,
    login_digits_refusal,
)
from ewallet.identity.repository import get_user
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, DomainError, NotFoundError, ServerBusyError
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.security.context import SecurityContext
from ewallet.services import Services

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
    """Return if ``pin`` is the user's payment password, else raise (see the module doc).

    Call it before opening the money-moving unit of work (it commits the attempt count in
    units of its own, and hashing must not run inside a transaction); then call
    :func:`ensure_not_frozen` inside that unit. Returns the stored hash that matched, which
    lets a PIN change detect a concurrent change; other callers ignore it.
    """
    check = _PinCheck(
        clock=clock,
        budget=settings.payment_password_max_failures,
        lock_for=timedelta(hours=settings.payment_password_lock_hours),
        user_id=user_id,
        actor=actor,
    )
    stored_hash = await _reserve_slot(
        engine,
        check.reserve,
        check.might_reserve,
        wait_seconds=settings.payment_password_slot_wait_seconds,
    )
    well_formed = len(pin) == 6 and pin.isascii() and pin.isdigit()
    try:
        correct = well_formed and await security.pins.verify(stored_hash, pin)
    except Exception:
        # A check that failed midway counts as a wrong entry.
        await run_unit(engine, lambda uow: check.settle(uow, correct=False))
        raise
    refusal = await run_unit(engine, lambda uow: check.settle(uow, correct=correct))
    if refusal is not None:
        raise refusal
    return stored_hash


async def require_payment_password(
    services: Services, *, user_id: str, pin: str, actor: Actor
) -> None:
    """The PIN check every money use case makes before its unit of work (module doc).

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
class _PinCheck:
    """One PIN check's two units: reserving a slot of the budget, and settling it."""

    clock: Clock
    budget: int
    lock_for: timedelta
    user_id: str
    actor: Actor

    async def reserve(self, uow: UnitOfWork) -> str | DomainError | None:
        """Take one of the budget's slots: the stored hash; None when every slot is held by a
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
        user.payment_checks_in_flight += 1
        user.payment_checks_since = now
        return user.payment_password_hash

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

    async def settle(self, uow: UnitOfWork, *, correct: bool) -> DomainError | None:
        """Free the slot; count a wrong entry (locking on the last), or clear the count."""
        user = await locked_user(uow, self.user_id)
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


async def _reserve_slot(
    engine: AsyncEngine,
    reserve: Callable[[UnitOfWork], Awaitable[str | DomainError | None]],
    might_reserve: Callable[[UnitOfWork], Awaitable[bool]],
    *,
    wait_seconds: float,
) -> str:
    """Reserve a check, waiting while the budget's slots are all held by checks in flight.

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


async def set_payment_password(
    services: Services, *, user_id: str, new_pin: str, current_pin: str | None, actor: Actor
) -> None:
    """``PUT /v1/me/payment-password``: set the first PIN (``current_pin`` None) or change
    it (the current one is checked); the owner is told, the change audited.

    Checked in this order, so a refusal wastes nothing: a PIN already set without the
    current one given (``payment_password_already_set``), the policy (``weak_payment_password``),
    then the current PIN with the lock rules (:func:`verify_payment_password`'s refusals),
    then the daily cap (:mod:`ewallet.identity.change_caps`; ``rate_limited``) -- each try
    that gets that far counts -- then the login password's digits and the login password
    itself (:func:`~ewallet.identity.payment_password.policy.ensure_apart_from_login`) --
    after the current PIN, so a stolen session cannot probe the login password's digits
    with changes bound to fail. Only then is the new one hashed and stored (``conflict``
    or ``payment_password_already_set`` when another change won meanwhile).
    """
    engine, clock, settings, security = (
        services.engine,
        services.clock,
        services.settings,
        services.security,
    )

    async def load(uow: UnitOfWork) -> User:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        return user

    user = await run_unit(engine, load, read_only=True)
    if current_pin is None and user.payment_password_hash is not None:
        raise PaymentPasswordAlreadySetError(
            "a payment password is set: give the current one to change it, or reset it"
        )
    check_payment_password_for_user(new_pin, user=user, cipher=security.cipher)
    verified_hash: str | None = None
    if current_pin is not None:
        verified_hash = await verify_payment_password(
            engine,
            clock=clock,
            settings=settings,
            security=security,
            user_id=user_id,
            pin=current_pin,
            actor=actor,
        )
    await take_change(services.limiter, payment_password_cap(settings), user_id=user_id)
    await ensure_apart_from_login(security, user=user, pin=new_pin)
    new_hash = await security.pins.hash(new_pin)

    async def store(uow: UnitOfWork) -> None:
        user = await locked_user(uow, user_id)
        if verified_hash is None and user.payment_password_hash is not None:
            raise PaymentPasswordAlreadySetError("a payment password was set meanwhile")
        if verified_hash is not None and user.payment_password_hash != verified_hash:
            raise ConflictError("the payment password was changed meanwhile; try again")
        if pin_matches_login_digits(security.digest, user=user, pin=new_pin):
            raise login_digits_refusal()  # the login password changed since the check above
        now = clock.now()
        user.payment_password_hash = new_hash
        user.payment_failures = 0
        user.payment_locked_until = None
        user.updated_at = now
        kind = "payment_password_set" if verified_hash is None else "payment_password_changed"
        await notify_user(uow.session, clock=clock, user=user, kind=kind)
        action = kind.replace("payment_password_", "payment_password.")
        await audit_user(uow, clock, actor, action, user_id)

    await run_unit(engine, store)
