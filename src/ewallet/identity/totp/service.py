"""The authenticator app (TOTP, RFC 6238): enrol, confirm, turn off, and bounded checks.

Enrolment is two steps so a mistyped secret cannot lock anyone out: :func:`start_enrolment`
stores a fresh secret (encrypted, context ``totp:<user>``) that does nothing yet;
:func:`confirm_enrolment` turns it on once the app shows a matching code, and hands out 10
recovery codes, once. Recovery codes are 60 random bits each, so a keyed digest (not
argon2) is enough to store them; each works once.

A code is never accepted twice: the accepted step is stored (``users.totp_last_step``); a
code of that step or an earlier one is refused, so a code seen over someone's shoulder is
useless once it was used.

Wrong codes are bounded per account (:class:`TotpBound`): a challenge allows only a few
tries, but a new one comes with every password sign-in, so the bound that matters is the
account's -- ``totp_max_failures`` wrong authenticator or recovery codes within
``totp_failure_window_minutes``, wherever they were typed (sign-in or action step-up,
turning the authenticator off), lock both for ``totp_lock_minutes``. While locked, every
code, the right one too, is refused with ``429 too_many_attempts`` and ``retry_after``,
uncounted and unchecked -- a stolen session must not be able to grind through codes. The
wrong code that spends the budget locks, tells the owner (in-app and SMS, notice
``totp_locked``) and is audited (``totp.locked``); every wrong code is audited too
(``totp.failed``, or ``totp.disable_failed``), and the audit log is the counter -- failures
since the last lock within the window -- so the bound holds across processes and needs no
table of its own. Callers check and count under the user's row lock (:func:`check_bounded`),
so parallel codes are counted one after the other.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

import pyotp
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor, audit_user, record_event
from ewallet.config import Settings
from ewallet.identity.errors import (
    TooManyAttemptsError,
    TotpAlreadyEnabledError,
    TotpInvalidError,
    TotpNotEnabledError,
)
from ewallet.identity.guards import locked_user
from ewallet.identity.repository import get_user
from ewallet.identity.totp import repository as repo
from ewallet.identity.totp.otp import (
    STEP_SECONDS,
    matching_step,
    new_recovery_code,
    recovery_code_hash,
)
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.kit.phone import mask_phone
from ewallet.models.identity import User
from ewallet.notify.service import notify_user
from ewallet.security.crypto import FieldCipher, KeyedDigest
from ewallet.services import Services

ISSUER: Final = "ewallet"
RECOVERY_CODE_COUNT: Final = 10
TOTP_FAILED: Final = "totp.failed"
TOTP_LOCKED: Final = "totp.locked"
DISABLE_FAILED: Final = "totp.disable_failed"
# Every audit action that records a wrong authenticator or recovery code of a customer.
FAILURE_ACTIONS: Final = (TOTP_FAILED, DISABLE_FAILED)


class HasTotp(Protocol):
    @property
    def totp_enabled_at(self) -> datetime | None: ...


def totp_enabled(user: HasTotp) -> bool:
    """True once the authenticator is confirmed: sign-in step-up may then offer TOTP."""
    return user.totp_enabled_at is not None


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str


@dataclass(frozen=True, slots=True)
class TotpStatus:
    """Where the user's authenticator stands: on (and how many recovery codes are left), or
    an enrolment started and not confirmed yet (``pending``: its secret, to show again)."""

    enabled: bool
    recovery_codes_left: int
    pending: TotpEnrolment | None


def _enrolment(secret: str, *, phone: str) -> TotpEnrolment:
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=mask_phone(phone), issuer_name=ISSUER
    )
    return TotpEnrolment(secret=secret, otpauth_uri=uri)


# --- Checking codes ---------------------------------------------------------------------


async def verify_user_totp(
    conn: AsyncConnection, *, clock: Clock, cipher: FieldCipher, user_id: str, code: str
) -> bool:
    """True and the step recorded if ``code`` is a fresh valid code of the user's TOTP."""
    state = await repo.locked_totp_state(conn, user_id)
    if state is None or state.secret_encrypted is None or state.enabled_at is None:
        return False
    secret = cipher.decrypt(state.secret_encrypted, context=f"totp:{user_id}")
    step = matching_step(secret, code, int(clock.now().timestamp()))
    if step is None or (state.last_step is not None and step <= state.last_step):
        return False
    await repo.set_last_step(conn, user_id=user_id, step=step)
    return True


async def use_recovery_code(
    conn: AsyncConnection, *, clock: Clock, digest: KeyedDigest, user_id: str, code: str
) -> bool:
    """Spend one unused recovery code of the user in the caller's transaction.

    True when it was unused (it is now marked used); the conditional update makes two
    concurrent uses of the same code succeed at most once. Sign-in step-up may call this.
    """
    return await repo.use_recovery_code(
        conn,
        user_id=user_id,
        code_hash=recovery_code_hash(digest, user_id=user_id, code=code),
        now=clock.now(),
    )


@dataclass(frozen=True, slots=True)
class TotpBound:
    """Wrong codes allowed per account (``max_failures`` within ``window``), and the lock."""

    max_failures: int
    window: timedelta
    lock_for: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> TotpBound:
        return cls(
            max_failures=settings.totp_max_failures,
            window=timedelta(minutes=settings.totp_failure_window_minutes),
            lock_for=timedelta(minutes=settings.totp_lock_minutes),
        )


def _locked(until: datetime, now: datetime) -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many wrong authenticator codes; try again later",
        retry_after=max(1, math.ceil((until - now).total_seconds())),
    )


async def failures_left(
    conn: AsyncConnection, *, clock: Clock, bound: TotpBound, user_id: str
) -> int:
    """Wrong codes the account may still make; raises ``too_many_attempts`` while locked.

    Call under the user's row lock, before the code is checked.
    """
    now = clock.now()
    last_lock = await repo.last_lock(conn, user_id=user_id, action=TOTP_LOCKED)
    after = None
    if last_lock is not None:
        until = last_lock.occurred_at + bound.lock_for
        if until > now:
            raise _locked(until, now)
        after = last_lock.event_id  # a served lock: a fresh budget
    failures = await repo.count_failures(
        conn,
        user_id=user_id,
        actions=FAILURE_ACTIONS,
        since=now - bound.window,
        after_event_id=after,
    )
    return max(0, bound.max_failures - failures)


async def count_failure(
    uow: UnitOfWork,
    *,
    clock: Clock,
    bound: TotpBound,
    user: User,
    actor: Actor,
    left: int,
    action: str = TOTP_FAILED,
    details: dict[str, Any] | None = None,
) -> TooManyAttemptsError | None:
    """Record a wrong code (``left``: what :func:`failures_left` said before the check).

    The one that spends the budget locks codes, tells the owner and returns the lock's
    refusal (to raise once the unit commits); else None.
    """
    conn = await uow.connection()
    subject: dict[str, Any] = {"subject_type": "user", "subject_id": user.id}
    await record_event(conn, clock=clock, actor=actor, action=action, details=details, **subject)
    if left > 1:
        return None
    now = clock.now()
    until = now + bound.lock_for
    await notify_user(
        uow.session,
        clock=clock,
        user=user,
        kind="totp_locked",
        params={"until": until.isoformat(timespec="minutes")},
    )
    spent = {"failures": bound.max_failures, "until": until.isoformat()}
    await record_event(conn, clock=clock, actor=actor, action=TOTP_LOCKED, details=spent, **subject)
    return _locked(until, now)


@dataclass(frozen=True, slots=True)
class Checked:
    """What a bounded check found: ``ok``; else the codes the account has left (0: it just
    locked, ``locked`` is the refusal to raise once the failure is committed)."""

    ok: bool
    left: int
    locked: TooManyAttemptsError | None = None


async def check_bounded(
    uow: UnitOfWork,
    *,
    clock: Clock,
    bound: TotpBound,
    user: User,
    actor: Actor,
    check: Callable[[AsyncConnection], Awaitable[bool]],
    action: str = TOTP_FAILED,
    details: dict[str, Any] | None = None,
) -> Checked:
    """Run ``check`` (a TOTP or recovery code) within the account's bound.

    ``user`` must be locked in this unit so parallel codes queue. Raises
    ``too_many_attempts`` while locked, before the code is looked at.
    """
    conn = await uow.connection()
    left = await failures_left(conn, clock=clock, bound=bound, user_id=user.id)
    if await check(conn):
        return Checked(ok=True, left=left)
    locked = await count_failure(
        uow,
        clock=clock,
        bound=bound,
        user=user,
        actor=actor,
        left=left,
        action=action,
        details=details,
    )
    return Checked(ok=False, left=left - 1, locked=locked)


# --- Use cases ----------------------------------------------------------------------------


async def start_enrolment(services: Services, *, user_id: str, actor: Actor) -> TotpEnrolment:
    """``POST /v1/me/totp``: a new secret for the app; an earlier unconfirmed one stops
    counting. Refusal: ``totp_already_enabled``."""
    clock, cipher = services.clock, services.security.cipher

    async def work(uow: UnitOfWork) -> TotpEnrolment:
        user = await locked_user(uow, user_id)
        if totp_enabled(user):
            raise TotpAlreadyEnabledError("turn the authenticator off before enrolling again")
        secret = pyotp.random_base32()
        user.totp_secret_encrypted = cipher.encrypt(secret, context=f"totp:{user_id}")
        user.totp_last_step = None
        user.updated_at = clock.now()
        await audit_user(uow, clock, actor, "totp.enrolment_started", user_id)
        return _enrolment(secret, phone=user.phone)

    return await run_unit(services.engine, work)


async def totp_status(services: Services, *, user_id: str) -> TotpStatus:
    """The authenticator's state for the owner's security page; reads only.

    A started, unconfirmed enrolment comes back with its secret, so the set-up page can
    show the same QR code again until it is confirmed (the owner left to install the app).
    Refusal: ``not_found`` (no such user).
    """
    cipher = services.security.cipher

    async def work(uow: UnitOfWork) -> TotpStatus:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        if totp_enabled(user):
            left = await repo.count_unused_recovery_codes(await uow.connection(), user_id=user_id)
            return TotpStatus(enabled=True, recovery_codes_left=left, pending=None)
        pending = None
        if user.totp_secret_encrypted is not None:
            secret = cipher.decrypt(user.totp_secret_encrypted, context=f"totp:{user_id}")
            pending = _enrolment(secret, phone=user.phone)
        return TotpStatus(enabled=False, recovery_codes_left=0, pending=pending)

    return await run_unit(services.engine, work, read_only=True)


async def confirm_enrolment(
    services: Services, *, user_id: str, totp_code: str, actor: Actor
) -> list[str]:
    """``POST /v1/me/totp/confirm``: turn the authenticator on if ``totp_code`` matches;
    returns the recovery codes (shown once).

    Refusals, in order: ``totp_already_enabled``; ``totp_not_enabled`` (no enrolment
    started); ``totp_invalid``.
    """
    clock, security = services.clock, services.security

    async def work(uow: UnitOfWork) -> list[str]:
        user = await locked_user(uow, user_id)
        if totp_enabled(user):
            raise TotpAlreadyEnabledError("the authenticator is already on")
        if user.totp_secret_encrypted is None:
            raise TotpNotEnabledError("start the enrolment first")
        secret = security.cipher.decrypt(user.totp_secret_encrypted, context=f"totp:{user_id}")
        now = clock.now()
        step = matching_step(secret, totp_code, int(now.timestamp()))
        if step is None:
            raise TotpInvalidError("the code does not match the new secret")
        user.totp_enabled_at = now
        user.totp_last_step = step  # this code must not sign anyone in later
        user.updated_at = now
        codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        hashes = [recovery_code_hash(security.digest, user_id=user_id, code=c) for c in codes]
        await repo.replace_recovery_codes(
            await uow.connection(), user_id=user_id, code_hashes=hashes, now=now
        )
        await notify_user(uow.session, clock=clock, user=user, kind="totp_enabled")
        await audit_user(uow, clock, actor, "totp.enabled", user_id)
        return codes

    return await run_unit(services.engine, work)


async def disable_totp(
    services: Services,
    *,
    user_id: str,
    totp_code: str | None,
    recovery_code: str | None,
    actor: Actor,
) -> None:
    """``DELETE /v1/me/totp``: turn the authenticator off with a fresh code or an unused
    recovery code.

    Refusals, in order: ``totp_not_enabled``; ``too_many_attempts`` (codes are locked);
    ``totp_invalid`` (``remaining_attempts``; the failure is committed and audited), or
    ``too_many_attempts`` for the wrong code that spent the account's bound.
    """
    clock, security = services.clock, services.security
    bound = TotpBound.from_settings(services.settings)

    async def work(uow: UnitOfWork) -> int | Exception | None:
        """None when done; else the tries left, or the lock's refusal (the failure commits
        with this unit)."""
        user = await locked_user(uow, user_id)
        if not totp_enabled(user):
            raise TotpNotEnabledError("the authenticator is not on")

        async def check(conn: AsyncConnection) -> bool:
            if totp_code is not None:
                return await verify_user_totp(
                    conn, clock=clock, cipher=security.cipher, user_id=user_id, code=totp_code
                )
            return await use_recovery_code(
                conn, clock=clock, digest=security.digest, user_id=user_id, code=recovery_code or ""
            )

        checked = await check_bounded(
            uow,
            clock=clock,
            bound=bound,
            user=user,
            actor=actor,
            check=check,
            action=DISABLE_FAILED,
        )
        if not checked.ok:
            return checked.locked or checked.left
        user.totp_secret_encrypted = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        user.updated_at = clock.now()
        await repo.delete_recovery_codes(await uow.connection(), user_id=user_id)
        await notify_user(uow.session, clock=clock, user=user, kind="totp_disabled")
        method = "totp_code" if totp_code is not None else "recovery_code"
        await audit_user(uow, clock, actor, "totp.disabled", user_id, details={"with": method})
        return None

    outcome = await run_unit(services.engine, work)
    if isinstance(outcome, Exception):
        raise outcome
    if outcome is not None:
        raise TotpInvalidError("wrong or already used code", remaining_attempts=outcome)
