"""Keeping an account safe: freezing it at once, unfreezing it (staff), the anti-phishing code.

A freeze is the owner's emergency brake: proven with the payment password or an SMS code
(purpose ``freeze``), it takes effect in the same transaction, signs out every other
device, and from then on every money action answers ``account_frozen`` (through
:func:`ewallet.identity.payment_password.service.verify_payment_password` and
:func:`~ewallet.identity.guards.ensure_not_frozen`).

Unfreezing: staff lift any freeze after checking who is asking (:func:`unfreeze_user`).
The owner may lift one themselves (:func:`unfreeze_own_account`) when they
or risk control put it -- proving it is them with the real name, the ID number, an SMS code
and the payment password or authenticator -- but never one staff put.

The anti-phishing code is a short word the owner picks; every SMS and email we send starts
with it (:func:`ewallet.notify.templates.with_anti_phishing`), so a message without it is
not from us.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.codes.service import CodeSent, request_code, run_with_code
from ewallet.identity.errors import (
    AccountNotFrozenError,
    IdentityMismatchError,
    PaymentPasswordLockedError,
    PaymentPasswordNotSetError,
    TooManyAttemptsError,
    TotpNotEnabledError,
)
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.protection.errors import UnfreezeNeedsStaffError
from ewallet.identity.protection.identity_check import claim_matches, parse_claim
from ewallet.identity.recovery.repository import recent_failures
from ewallet.identity.repository import get_user
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions.repository import end_user_sessions
from ewallet.identity.totp.service import totp_enabled, verify_user_totp
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.models.identity import CodePurpose, SessionEndReason, User, UserStatus
from ewallet.notify.service import notify_user
from ewallet.services import Services

ANTI_PHISHING_MIN: Final = 2
ANTI_PHISHING_MAX: Final = 8
_ANTI_PHISHING: Final = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]+")


# --- Freezing ---------------------------------------------------------------------------


async def freeze_user(
    uow: UnitOfWork,
    *,
    clock: Clock,
    user_id: str,
    frozen_by: str,
    reason: str,
    hotline: str,
    actor: Actor,
    keep_session_id: str | None = None,
) -> User:
    """Freeze the account in the caller's unit: ``frozen_by`` is ``self``, ``staff:<id>`` or
    ``risk``. Every session but ``keep_session_id`` is signed out; the owner is told.

    Refusal: ``account_frozen`` when it is frozen (or closed) already -- nothing changes.
    Locks the user's row first (``FOR NO KEY UPDATE``, step 1 of the lock order).
    """
    user = await locked_user(uow, user_id)
    ensure_active(user)
    now = clock.now()
    user.status = UserStatus.FROZEN
    user.frozen_at = now
    user.frozen_by = frozen_by
    user.frozen_reason = reason[:200]
    user.updated_at = now
    await end_user_sessions(
        await uow.connection(),
        user_id=user_id,
        now=now,
        reason=SessionEndReason.ACCOUNT_FROZEN,
        keep_session_id=keep_session_id or "",
    )
    await notify_user(
        uow.session, clock=clock, user=user, kind="account_frozen", params={"hotline": hotline}
    )
    details = {"frozen_by": frozen_by, "reason": reason[:200]}
    await audit_user(uow, clock, actor, "account.frozen", user_id, details=details)
    return user


@dataclass(frozen=True, slots=True)
class FreezeProof:
    """Exactly one of the two: the payment password, or an SMS code of purpose ``freeze``."""

    payment_password: str | None = None
    verification_code: str | None = None


async def freeze_own_account(
    services: Services, *, user_id: str, session_id: str, proof: FreezeProof, actor: Actor
) -> datetime:
    """``POST /v1/me/freeze``: the owner's freeze; returns when it took effect. The calling
    session stays signed in.

    Refusals, in order -- with the payment password: the PIN check's
    (:func:`~ewallet.identity.payment_password.service.require_payment_password`, which
    answers ``account_frozen`` first); with an SMS code: ``account_frozen`` (before the
    code is spent), then the code's refusals.
    """

    async def work(uow: UnitOfWork) -> datetime:
        user = await freeze_user(
            uow,
            clock=services.clock,
            user_id=user_id,
            frozen_by="self",
            reason="frozen by the owner",
            hotline=services.settings.hotline,
            actor=actor,
            keep_session_id=session_id,
        )
        assert user.frozen_at is not None
        return user.frozen_at

    if proof.payment_password is not None:
        await require_payment_password(
            services, user_id=user_id, pin=proof.payment_password, actor=actor
        )
        return await run_unit(services.engine, work)

    async def phone_of(uow: UnitOfWork) -> str:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)  # spare the code when there is nothing to do
        return user.phone

    phone = await run_unit(services.engine, phone_of, read_only=True)
    return await run_with_code(
        services,
        work,
        phone=phone,
        purpose=CodePurpose.FREEZE,
        code=proof.verification_code or "",
    )


async def request_freeze_code(services: Services, *, caller: Caller, user_id: str) -> CodeSent:
    """Text the owner an SMS code of purpose ``freeze`` (the signed-in way to ask for one,
    as the web wallet does; the API asks with the phone number at
    ``POST /v1/verification-codes``, which sends the same code under the same limits).

    Refusals, in order: ``account_frozen`` (nothing to freeze: no code is sent);
    ``rate_limited`` (the code limits of :func:`~ewallet.identity.codes.service.request_code`).
    """

    async def phone_of(uow: UnitOfWork) -> str:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)
        return user.phone

    phone = await run_unit(services.engine, phone_of, read_only=True)
    return await request_code(services, caller=caller, phone=phone, purpose=CodePurpose.FREEZE)


async def unfreeze_user(
    uow: UnitOfWork, *, clock: Clock, user_id: str, staff_id: str, reason: str
) -> None:
    """Staff lift a freeze (any ``frozen_by``) in the caller's unit, audited and notified.

    The staff endpoint checks the role and the owner's identity before calling this; it
    refuses ``account_not_frozen`` for an active account. Locks the user's row first.
    """
    user = await locked_user(uow, user_id)
    if user.status != UserStatus.FROZEN:
        raise AccountNotFrozenError("the account is not frozen")
    details = {"reason": reason[:200], "was_frozen_by": user.frozen_by}
    await lift_freeze(uow, clock=clock, user=user, actor=Actor("staff", staff_id), details=details)


async def lift_freeze(
    uow: UnitOfWork, *, clock: Clock, user: User, actor: Actor, details: dict[str, Any]
) -> datetime:
    """Make the frozen, locked ``user`` active again in the caller's unit; the owner is told,
    ``account.unfrozen`` audited (staff's unfreeze and the owner's share it)."""
    now = clock.now()
    user.status = UserStatus.ACTIVE
    user.frozen_at = None
    user.frozen_by = None
    user.frozen_reason = None
    user.updated_at = now
    await notify_user(uow.session, clock=clock, user=user, kind="account_unfrozen")
    await audit_user(uow, clock, actor, "account.unfrozen", user.id, details=details)
    return now


# --- The owner's own unfreeze -------------------------------------------------------------

# A freeze the owner or risk control put may be lifted by the owner with the checks below:
# the owner froze it for their own reasons, and risk control's protective freeze is what
# its notice tells them to undo by proving who they are. Staff's freeze (compliance, a
# court order, a reported fraud) is lifted by staff alone.
SELF_UNFREEZABLE: Final = frozenset({"self", "risk"})
MAX_UNFREEZE_FAILURES: Final = 5
UNFREEZE_WINDOW: Final = timedelta(hours=24)
UNFREEZE_FAILED: Final = "account.unfreeze_failed"


@dataclass(frozen=True, slots=True)
class UnfreezeProof:
    """What the owner proves: the real name and ID number, the SMS code of purpose
    ``unfreeze``, and the second factor -- exactly one of the payment password and an
    authenticator code (where the authenticator is on)."""

    real_name: str
    id_number: str
    verification_code: str
    payment_password: str | None = None
    totp_code: str | None = None


def self_unfreeze_refusal(user: User) -> str | None:
    """Why the owner cannot lift this account's freeze themselves (None: they can):
    ``account_not_frozen``, ``frozen_by_staff`` or ``identity_not_verified``."""
    if user.status != UserStatus.FROZEN:
        return "account_not_frozen"
    if (user.frozen_by or "").split(":")[0] not in SELF_UNFREEZABLE:
        return "frozen_by_staff"
    if user.identity_verified_at is None:
        return "identity_not_verified"
    return None


def _ensure_self_unfreezable(user: User) -> None:
    refusal = self_unfreeze_refusal(user)
    if refusal == "account_not_frozen":
        raise AccountNotFrozenError("the account is not frozen")
    if refusal is not None:
        raise UnfreezeNeedsStaffError("only our staff can lift this freeze", reason=refusal)


async def _frozen_account(services: Services, user_id: str) -> User:
    """The account, read; refused unless its owner may unfreeze it (no code is spent)."""

    async def work(uow: UnitOfWork) -> User:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        _ensure_self_unfreezable(user)
        return user

    return await run_unit(services.engine, work, read_only=True)


async def _unfreeze_tries_left(uow: UnitOfWork, *, clock: Clock, user_id: str) -> int:
    """Failed unfreezes left today; ``too_many_attempts`` (``retry_after``) when none is.
    The audit log counts them, so the lock holds across processes and needs no table."""
    now = clock.now()
    failures = await recent_failures(
        await uow.connection(), action=UNFREEZE_FAILED, user_id=user_id, since=now - UNFREEZE_WINDOW
    )
    if failures.count >= MAX_UNFREEZE_FAILURES:
        assert failures.oldest is not None
        wait = math.ceil((failures.oldest + UNFREEZE_WINDOW - now).total_seconds())
        raise TooManyAttemptsError("too many failed unfreezes; try later", retry_after=wait + 1)
    return MAX_UNFREEZE_FAILURES - failures.count


async def request_unfreeze_code(services: Services, *, caller: Caller, user_id: str) -> CodeSent:
    """Text the owner an SMS code of purpose ``unfreeze``.

    Refusals, in order: ``account_not_frozen``; ``unfreeze_needs_staff`` (``reason``);
    ``rate_limited`` -- so no code is sent for an unfreeze that could not happen.
    """
    user = await _frozen_account(services, user_id)
    return await request_code(
        services, caller=caller, phone=user.phone, purpose=CodePurpose.UNFREEZE
    )


class _Failed:
    def __init__(self, left: int) -> None:
        self.left = left


async def unfreeze_own_account(
    services: Services, *, user_id: str, proof: UnfreezeProof, actor: Actor
) -> datetime:
    """``POST /v1/me/unfreeze``: the owner lifts their own (or risk control's) freeze;
    returns when. Audited (``account.unfrozen``, the owner as actor), the owner told.

    Refusals, in order, none of which spends the code: ``invalid_real_name``,
    ``invalid_id_number`` (formats); ``account_not_frozen``; ``unfreeze_needs_staff``
    (``reason``); ``payment_password_not_set`` / ``payment_password_locked`` or
    ``totp_not_enabled``; ``too_many_attempts`` (5 failed unfreezes a day). Then the
    code's refusals; then ``identity_mismatch`` (``remaining_attempts``) when the name, the
    ID number or the second factor is wrong -- which one is not said, the code is used up
    and the try counted (``account.unfreeze_failed``); the one that spends the day's tries
    answers ``too_many_attempts``. The account stays frozen on every refusal.

    The PIN is compared before the unit (argon2 holds no lock) but only answered inside
    it, after the code was used: every guess costs a fresh SMS code.
    """
    clock, security = services.clock, services.security
    claim = parse_claim(real_name=proof.real_name, id_number=proof.id_number, now=clock.now())
    user = await _frozen_account(services, user_id)
    pin_hash: str | None = None
    pin_ok = False
    if proof.payment_password is not None:
        pin_hash = user.payment_password_hash
        if pin_hash is None:
            raise PaymentPasswordNotSetError("set a payment password first")
        now = clock.now()
        if user.payment_locked_until is not None and user.payment_locked_until > now:
            wait = math.ceil((user.payment_locked_until - now).total_seconds())
            raise PaymentPasswordLockedError("the payment password is locked", retry_after=wait)
        pin_ok = await security.pins.verify(pin_hash, proof.payment_password)
    elif not totp_enabled(user):
        raise TotpNotEnabledError("the authenticator is not on: use the payment password")
    await run_unit(
        services.engine,
        lambda uow: _unfreeze_tries_left(uow, clock=clock, user_id=user_id),
        read_only=True,
    )

    async def work(uow: UnitOfWork) -> datetime | _Failed:
        locked = await locked_user(uow, user_id)
        _ensure_self_unfreezable(locked)
        left = await _unfreeze_tries_left(uow, clock=clock, user_id=user_id)
        if pin_hash is not None:
            # A PIN changed since it was compared is not the one that was checked.
            second = pin_ok and locked.payment_password_hash == pin_hash
        else:
            second = await verify_user_totp(
                await uow.connection(),
                clock=clock,
                cipher=security.cipher,
                user_id=user_id,
                code=proof.totp_code or "",
            )
        if not (claim_matches(locked, security, claim) and second):
            await audit_user(uow, clock, actor, UNFREEZE_FAILED, user_id)
            return _Failed(left - 1)  # committed with the code's use
        details = {"by": "owner", "was_frozen_by": locked.frozen_by}
        return await lift_freeze(uow, clock=clock, user=locked, actor=actor, details=details)

    outcome = await run_with_code(
        services, work, phone=user.phone, purpose=CodePurpose.UNFREEZE, code=proof.verification_code
    )
    if isinstance(outcome, _Failed):
        if outcome.left <= 0:
            wait = int(UNFREEZE_WINDOW.total_seconds())
            raise TooManyAttemptsError("too many failed unfreezes; try later", retry_after=wait)
        raise IdentityMismatchError(
            "the identity details do not match", remaining_attempts=outcome.left
        )
    return outcome


# --- Anti-phishing code -----------------------------------------------------------------


def normalize_anti_phishing_code(raw: str) -> str:
    """2-8 letters, digits or Chinese characters (full-width forms folded to ASCII)."""
    code = unicodedata.normalize("NFKC", raw).strip()
    if not (ANTI_PHISHING_MIN <= len(code) <= ANTI_PHISHING_MAX and _ANTI_PHISHING.fullmatch(code)):
        raise ValidationFailedError(
            "the anti-phishing code has 2 to 8 letters, digits or Chinese characters"
        )
    return code


async def set_anti_phishing_code(
    services: Services, *, user_id: str, code: str | None, actor: Actor
) -> str | None:
    """``PUT``/``DELETE /v1/me/anti-phishing-code``: set (or, with None, remove) the code
    that starts every message we send; the owner is told, the change audited.

    Refusal: ``validation_error`` (not 2-8 letters, digits or Chinese characters).
    """
    value = None if code is None else normalize_anti_phishing_code(code)
    clock = services.clock

    async def work(uow: UnitOfWork) -> str | None:
        user = await locked_user(uow, user_id)
        user.anti_phishing_code = value
        user.updated_at = clock.now()
        # The notice's SMS already carries the new code: the owner sees it works.
        await notify_user(uow.session, clock=clock, user=user, kind="anti_phishing_code_changed")
        details = {"set": value is not None}
        await audit_user(uow, clock, actor, "anti_phishing_code.changed", user_id, details=details)
        return value

    return await run_unit(services.engine, work)
