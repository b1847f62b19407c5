"""The 6-digit payment password (PIN): its policy, setting it, and checking it before money moves.

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

Money endpoints use :data:`PaymentPasswordDep` (or services :func:`verify_payment_password`);
refusals come in this order: ``account_frozen`` → ``payment_password_not_set`` →
``payment_password_locked`` (``retry_after``) → ``payment_password_invalid``
(``remaining_attempts``). The money unit then calls :func:`ensure_not_frozen`, so a freeze
landing between the PIN check and the money moving is still seen, under the row lock.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, audit_user
from ewallet.config import Settings
from ewallet.http.deps import ClockDep, EngineDep, SettingsDep
from ewallet.identity.change_caps import payment_password_cap, take_change
from ewallet.identity.deps import Principal, SecurityDep
from ewallet.identity.errors import (
    PaymentPasswordAlreadySetError,
    PaymentPasswordInvalidError,
    PaymentPasswordLockedError,
    PaymentPasswordNotSetError,
    SameAsLoginPasswordError,
    WeakPaymentPasswordError,
)
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.login_digits import pin_matches_login_digits
from ewallet.identity.realname import birth_date_of, id_number_of
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, DomainError, NotFoundError, ServerBusyError
from ewallet.kit.ratelimit import RateLimiter
from ewallet.models.identity import User
from ewallet.models.tables import users
from ewallet.notify.service import notify_user
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import FieldCipher
from ewallet.services import Services

# A reserved check not settled within this long was abandoned (its process died).
STALE_CHECK: Final = timedelta(seconds=60)
# How often a check waiting for a free slot of the budget looks again (how long it waits
# is ``payment_password_slot_wait_seconds``).
SLOT_POLL_SECONDS: Final = 0.01
# The Retry-After of a check that found no free slot in time (server_busy).
BUSY_RETRY_AFTER_SECONDS: Final = 1

# --- Policy ---------------------------------------------------------------------------

PIN_LENGTH: Final = 6
# Shapes people pick that the structural rules below do not catch: keypad lines and
# "love" numbers (520 = 我爱你, 1314 = 一生一世).
COMMON_PINS: Final = frozenset(
    {"147258", "258369", "147369", "369258", "159357", "357159", "159753", "753159"}
    | {"741852", "852963", "963852", "789456", "456123", "321654", "987456", "654789"}
    | {"520131", "201314", "131420", "521314", "131452", "520520", "584520", "521521"}
)


def _is_run(pin: str) -> bool:
    """123456, 654321, 890123: each digit one more (or one less) than the last, mod 10."""
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {9})


def _birthday_forms(born: date) -> set[str]:
    yy, mm, dd = f"{born.year % 100:02d}", f"{born.month:02d}", f"{born.day:02d}"
    return {yy + mm + dd, mm + dd + yy, dd + mm + yy, f"{born.year:04d}{mm}"}


def payment_password_problems(
    pin: str, *, phone: str | None = None, id_number: str | None = None
) -> list[str]:
    """The reasons ``pin`` is refused as a payment password; empty when it is acceptable.

    ``not_six_digits`` (exactly 6 ASCII digits), ``one_digit_repeated`` (111111),
    ``sequence`` (123456, 654321, 901234), ``repeating_pattern`` (121212, 123123, 112233,
    111222), ``palindrome`` (123321), ``common`` (keypad lines, 520131 ...), ``birthday``
    (YYMMDD, MMDDYY, DDMMYY or YYYYMM of the verified ID's birth date), ``id_number_tail``
    (its last 6), ``phone_number`` (the last 6 digits of the phone). What needs the
    account's secrets is checked apart: the login password's digits
    (:func:`ensure_apart_from_login`).
    """
    if len(pin) != PIN_LENGTH or not pin.isascii() or not pin.isdigit():
        return ["not_six_digits"]
    reasons = []
    if len(set(pin)) == 1:
        reasons.append("one_digit_repeated")
    elif _is_run(pin):
        reasons.append("sequence")
    elif pin in {
        pin[:2] * 3,
        pin[:3] * 2,
        "".join(d * 2 for d in pin[::2]),
        pin[0] * 3 + pin[3] * 3,
    }:
        reasons.append("repeating_pattern")
    elif pin == pin[::-1]:
        reasons.append("palindrome")
    if pin in COMMON_PINS:
        reasons.append("common")
    if id_number:
        born = birth_date_of(id_number)
        if born is not None and pin in _birthday_forms(born):
            reasons.append("birthday")
        if id_number[-6:] == pin:
            reasons.append("id_number_tail")
    if phone and "".join(ch for ch in phone if ch.isdigit())[-6:] == pin:
        reasons.append("phone_number")
    return reasons


def check_payment_password_for_user(pin: str, *, user: User, cipher: FieldCipher) -> None:
    """Raise ``weak_payment_password`` (with ``reasons``) if ``user`` may not pick ``pin``."""
    reasons = payment_password_problems(pin, phone=user.phone, id_number=id_number_of(user, cipher))
    if reasons:
        raise WeakPaymentPasswordError("the payment password is too easy to guess", reasons=reasons)


def _login_digits_refusal() -> WeakPaymentPasswordError:
    return WeakPaymentPasswordError(
        "the payment password must not be the login password's digits",
        reasons=["matches_login_password_digits"],
    )


async def ensure_apart_from_login(security: SecurityContext, *, user: User, pin: str) -> None:
    """Refuse a PIN a thief holding the login password could derive from it.

    ``weak_payment_password`` with reason ``matches_login_password_digits`` when ``pin`` is
    a 6-digit window of the login password's digits (see :mod:`ewallet.identity.login_digits`;
    accounts whose digits are not known yet skip this); ``same_as_login_password`` when the
    login password is exactly these 6 characters -- a hash comparison that can only catch
    accounts created before the 8-character rule.

    Its answer says something about the login password, so callers run it only once the
    person has proven the account further than a session does (the current PIN, an SMS
    code), or when there is no PIN yet to protect.
    """
    if pin_matches_login_digits(security.digest, user=user, pin=pin):
        raise _login_digits_refusal()
    if await security.passwords.verify(user.login_password_hash, pin):
        raise SameAsLoginPasswordError("the payment password must differ from the login one")


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
        conn = await uow.connection()
        row = (
            await conn.execute(
                select(
                    users.c.payment_failures,
                    users.c.payment_checks_in_flight,
                    users.c.payment_checks_since,
                    users.c.payment_locked_until,
                ).where(users.c.id == self.user_id)
            )
        ).first()
        if row is None or row.payment_locked_until is not None:
            return True  # reserve answers (or serves) the lock
        now = self.clock.now()
        since = row.payment_checks_since
        if since is not None and now - since > STALE_CHECK and row.payment_checks_in_flight:
            return True
        return bool(row.payment_failures + row.payment_checks_in_flight < self.budget)

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
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    security: SecurityContext,
    limiter: RateLimiter,
    user_id: str,
    new_pin: str,
    current_pin: str | None,
    actor: Actor,
) -> None:
    """Set the first PIN (``current_pin`` None) or change it (the current one is checked).

    Checked in this order, so a refusal wastes nothing: a PIN already set without the
    current one given (``payment_password_already_set``), the policy (``weak_payment_password``),
    then the current PIN with the lock rules, then the login password's digits and the
    login password itself (:func:`ensure_apart_from_login`) -- after the current PIN, so a
    stolen session cannot probe the login password's digits with changes bound to fail --
    and each try that gets that far counts toward the daily cap
    (:mod:`ewallet.identity.change_caps`; ``rate_limited`` beyond it). Only then is the new
    one hashed and stored.
    """

    async def load(uow: UnitOfWork) -> User:
        user = await uow.session.get(User, user_id)
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
    await take_change(limiter, payment_password_cap(settings), user_id=user_id)
    await ensure_apart_from_login(security, user=user, pin=new_pin)
    new_hash = await security.pins.hash(new_pin)

    async def store(uow: UnitOfWork) -> None:
        user = await locked_user(uow, user_id)
        if verified_hash is None and user.payment_password_hash is not None:
            raise PaymentPasswordAlreadySetError("a payment password was set meanwhile")
        if verified_hash is not None and user.payment_password_hash != verified_hash:
            raise ConflictError("the payment password was changed meanwhile; try again")
        if pin_matches_login_digits(security.digest, user=user, pin=new_pin):
            raise _login_digits_refusal()  # the login password changed since the check above
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


@dataclass(frozen=True, slots=True)
class PaymentPasswordGuard:
    """The PIN check for one request, ready to call from a money endpoint.

    Example -- every money endpoint follows this shape::

        @router.post("/v1/transfers", status_code=201, dependencies=[Authenticated, Idempotent])
        async def create_transfer(
            body: TransferIn, user: CurrentUser, pin: PaymentPasswordDep, ...
        ) -> TransferOut:
            await pin.verify(user, body.payment_password)  # frozen, not set, locked, wrong
            return await transfers.create(...)  # whose unit calls ensure_not_frozen(...)
    """

    engine: AsyncEngine
    clock: Clock
    settings: Settings
    security: SecurityContext
    client_ip: str | None

    async def verify(self, principal: Principal, pin: str) -> None:
        await verify_payment_password(
            self.engine,
            clock=self.clock,
            settings=self.settings,
            security=self.security,
            user_id=principal.user_id,
            pin=pin,
            actor=Actor("user", principal.user_id, self.client_ip),
        )


def payment_password_guard(
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    security: SecurityDep,
) -> PaymentPasswordGuard:
    client_ip = request.client.host if request.client else None
    return PaymentPasswordGuard(engine, clock, settings, security, client_ip)


PaymentPasswordDep = Annotated[PaymentPasswordGuard, Depends(payment_password_guard)]
