"""Forgotten passwords: reset the login password or the payment password with an SMS code.

The caller is not signed in; what proves them is a code texted to the phone
(``reset_login_password`` / ``reset_payment_password``), used through
:func:`ewallet.identity.codes.service.run_with_code`, so a wrong code counts even though the
request fails. Nothing is said about whether the phone has an account beyond what the
code proof establishes: without a live code every phone gets the same code error, and a
proven code for a phone with no account answers ``verification_code_expired`` too.

Resetting the *payment* password of an account whose owner has verified their identity
needs a second factor as well (``identity``); the factors are a list
(:data:`IDENTITY_FACTORS`): the ID number, and a bound card's full number (checked by
keyed fingerprint, :mod:`ewallet.security.card_fingerprint`). A wrong factor
burns the SMS code (the attempt is committed with the code's use), is audit-logged, and
after :data:`MAX_IDENTITY_MISMATCHES` within a day the account refuses further tries.

A login reset revokes every session except the resetting device's own, if the request
carries its (valid) access token; a token that does not verify is ignored rather than
refused -- forgetting a password often comes with an expired token.

A signed-in user (the web wallet's "forgot payment password" page) resets their own
payment password by the same rules, on the account's own phone rather than one typed in:
:func:`payment_reset_start` says where the code goes and which identity factors will be
asked for, :func:`send_payment_reset_code` texts it, :func:`reset_own_payment_password`
makes the reset.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final, Protocol

from ewallet.audit.service import Actor, audit_user
from ewallet.identity import repository as users_repository
from ewallet.identity.change_caps import (
    ChangeCap,
    login_password_cap,
    payment_password_cap,
    take_change,
)
from ewallet.identity.codes.service import CodeSent, request_code, run_with_code
from ewallet.identity.errors import (
    IdentityMismatchError,
    IdentityRequiredError,
    TooManyAttemptsError,
    VerificationCodeExpiredError,
    WeakPaymentPasswordError,
)
from ewallet.identity.login_digits import ensure_login_apart_from_pin, login_digit_digests
from ewallet.identity.password_policy import check_login_password
from ewallet.identity.payment_password.policy import (
    check_payment_password_for_user,
    ensure_apart_from_login,
    payment_password_problems,
)
from ewallet.identity.realname.rules import id_number_matches
from ewallet.identity.recovery import repository as repo
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions.repository import end_user_sessions
from ewallet.kit.bank_cards import normalize_card_number
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import DomainError, UnauthorizedError
from ewallet.kit.phone import parse_phone
from ewallet.models.identity import CodePurpose, SessionEndReason, User
from ewallet.notify.service import notify_user
from ewallet.security.card_fingerprint import card_fingerprint
from ewallet.security.context import SecurityContext
from ewallet.security.ratelimit import RateLimiter
from ewallet.services import Services

MAX_IDENTITY_MISMATCHES: Final = 5
MISMATCH_WINDOW: Final = timedelta(hours=24)
MISMATCH_ACTION: Final = "password_reset.identity_mismatch"


class ResetKind(StrEnum):
    LOGIN = "login"
    PAYMENT = "payment"


class IdentityFactor(Protocol):
    """Something only the owner should know, asked for when it applies to the account."""

    @property
    def name(self) -> str: ...

    async def applies(self, uow: UnitOfWork, user: User) -> bool: ...

    async def matches(
        self, uow: UnitOfWork, user: User, value: str, security: SecurityContext
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class IdNumberFactor:
    """The resident ID number given at real-name verification (compared by keyed digest)."""

    name: str = "id_number"

    async def applies(self, uow: UnitOfWork, user: User) -> bool:
        return user.identity_verified_at is not None

    async def matches(
        self, uow: UnitOfWork, user: User, value: str, security: SecurityContext
    ) -> bool:
        return id_number_matches(user, security.digest, value)


@dataclass(frozen=True, slots=True)
class BoundCardFactor:
    """The full number of one of the account's active cards (compared by keyed fingerprint)."""

    name: str = "card_number"

    async def applies(self, uow: UnitOfWork, user: User) -> bool:
        return await users_repository.has_active_card(await uow.connection(), user.id)

    async def matches(
        self, uow: UnitOfWork, user: User, value: str, security: SecurityContext
    ) -> bool:
        try:
            number = normalize_card_number(value)
        except DomainError:
            return False
        wanted = card_fingerprint(security.digest, number)
        stored = await users_repository.active_card_fingerprints(await uow.connection(), user.id)
        return any(hmac.compare_digest(fingerprint, wanted) for fingerprint in stored)


IDENTITY_FACTORS: list[IdentityFactor] = [IdNumberFactor(), BoundCardFactor()]


@dataclass(frozen=True, slots=True)
class KeptSession:
    """The session of the device doing the reset (from its Bearer token), if any."""

    user_id: str
    session_id: str


async def _user_by_phone(uow: UnitOfWork, phone: str) -> User:
    user = await repo.locked_user_by_phone(uow.session, phone)
    if user is None:
        # The code was proven, but no account can have asked for it: say no more than that.
        raise VerificationCodeExpiredError("no live code for this phone and purpose")
    return user


async def failures_left(
    uow: UnitOfWork, *, clock: Clock, action: str, user_id: str, limit: int, window: timedelta
) -> int:
    """Tries left before ``limit`` failures (audit events ``action``) within ``window``.

    Raises ``too_many_attempts`` (``retry_after``: until the oldest failure ages out) when
    none is left. The audit log is the counter, so the limit needs no table of its own and
    holds across processes; the failures must be recorded in committed units.
    """
    now = clock.now()
    failures = await repo.recent_failures(
        await uow.connection(), action=action, user_id=user_id, since=now - window
    )
    if failures.count >= limit:
        assert failures.oldest is not None
        wait = (failures.oldest + window - now).total_seconds()
        raise TooManyAttemptsError("too many failed attempts; try later", retry_after=int(wait) + 1)
    return limit - failures.count


@dataclass(frozen=True, slots=True)
class ResetRequest:
    phone: str  # as typed; normalized here
    verification_code: str
    kind: ResetKind
    new_password: str
    identity: str | None = None
    bearer_token: str | None = None  # the resetting device's access token, if it sent one
    client_ip: str | None = None


def kept_session(services: Services, token: str | None) -> KeptSession | None:
    """The session a verified access token names; None without one, or for a token that
    does not verify -- forgetting a password often comes with an expired token."""
    if token is None:
        return None
    try:
        claims = services.security.tokens.verify(token, kind="user", now=services.clock.now())
    except UnauthorizedError:
        return None
    return KeptSession(user_id=claims.subject, session_id=claims.session_id)


async def reset_password(services: Services, *, request: ResetRequest) -> None:
    """``POST /v1/password-resets``: reset the login or payment password of the account of
    ``request.phone`` (module doc).

    Refusals, in order: ``invalid_phone``; the new password's policy (``weak_password``,
    or for a PIN what can be judged without the account: ``weak_payment_password``); the
    code's refusals (:func:`~ewallet.identity.codes.service.run_with_code`); no account:
    ``verification_code_expired``. For a PIN then: ``identity_required`` (``factors``),
    ``too_many_attempts`` (the day's wrong factors are spent), ``identity_mismatch``
    (``remaining_attempts``; committed with the code's use), ``weak_payment_password``
    (the account's own rules). Both kinds then count toward the daily cap (``rate_limited``,
    rolled back like any refusal, so the code stays usable) and refuse a password the
    other one is built from (``weak_password`` / ``weak_payment_password``,
    ``same_as_login_password``).
    """
    security, settings = services.security, services.settings
    phone = parse_phone(request.phone)
    if request.kind is ResetKind.LOGIN:
        check_login_password(request.new_password, phone=phone)
        work = _login_reset(
            clock=services.clock,
            security=security,
            cap=_Cap(services.limiter, login_password_cap(settings)),
            request=request,
            kept=kept_session(services, request.bearer_token),
            phone=phone,
            new_hash=await security.passwords.hash(request.new_password),
        )
        purpose = CodePurpose.RESET_LOGIN_PASSWORD
    else:
        # What can be judged without the account comes first; the rest after the proof.
        reasons = payment_password_problems(request.new_password, phone=phone)
        if reasons:
            raise WeakPaymentPasswordError("the payment password is too easy", reasons=reasons)
        work = _payment_reset(
            clock=services.clock,
            security=security,
            cap=_Cap(services.limiter, payment_password_cap(settings)),
            request=request,
            phone=phone,
            new_hash=await security.pins.hash(request.new_password),
        )
        purpose = CodePurpose.RESET_PAYMENT_PASSWORD
    left = await run_with_code(
        services, work, phone=phone, purpose=purpose, code=request.verification_code
    )
    if left is not None:
        raise IdentityMismatchError("the identity details do not match", remaining_attempts=left)


Work = Callable[[UnitOfWork], Awaitable[int | None]]


@dataclass(frozen=True, slots=True)
class _Cap:
    """The daily cap a reset counts toward, with the limiter that counts it."""

    limiter: RateLimiter
    cap: ChangeCap

    async def take(self, user: User) -> None:
        await take_change(self.limiter, self.cap, user_id=user.id)


def _login_reset(
    *,
    clock: Clock,
    security: SecurityContext,
    cap: _Cap,
    request: ResetRequest,
    kept: KeptSession | None,
    phone: str,
    new_hash: str,
) -> Work:
    password = request.new_password

    async def work(uow: UnitOfWork) -> int | None:
        user = await _user_by_phone(uow, phone)
        # After the code's proof: the answer tells whether the PIN is among these digits,
        # so it is rationed. A refusal rolls back, so the code still works for another try.
        await cap.take(user)
        await ensure_login_apart_from_pin(security, user=user, password=password)
        now = clock.now()
        user.login_password_hash = new_hash
        user.login_password_digit_digests = login_digit_digests(
            security.digest, user_id=user.id, password=password
        )
        user.login_password_changed_at = now
        user.login_failures = 0
        user.login_locked_until = None
        user.updated_at = now
        keep = kept.session_id if kept is not None and kept.user_id == user.id else ""
        revoked = await end_user_sessions(
            await uow.connection(),
            user_id=user.id,
            now=now,
            reason=SessionEndReason.LOGIN_PASSWORD_RESET,
            keep_session_id=keep,
        )
        await notify_user(uow.session, clock=clock, user=user, kind="login_password_reset")
        details = {"sessions_revoked": revoked, "kept_current": bool(keep)}
        actor = Actor("user", user.id, request.client_ip)
        await audit_user(uow, clock, actor, "login_password.reset", user.id, details=details)
        return None

    return work


def _payment_reset(
    *,
    clock: Clock,
    security: SecurityContext,
    cap: _Cap,
    request: ResetRequest,
    phone: str,
    new_hash: str,
) -> Work:
    pin = request.new_password

    async def work(uow: UnitOfWork) -> int | None:
        """None when done; the attempts left when the identity factor was wrong."""
        user = await _user_by_phone(uow, phone)
        actor = Actor("user", user.id, request.client_ip)
        factors = [f for f in IDENTITY_FACTORS if await f.applies(uow, user)]
        if factors:
            if not request.identity:
                names = [f.name for f in factors]
                raise IdentityRequiredError("confirm your identity to reset it", factors=names)
            left = await failures_left(
                uow,
                clock=clock,
                action=MISMATCH_ACTION,
                user_id=user.id,
                limit=MAX_IDENTITY_MISMATCHES,
                window=MISMATCH_WINDOW,
            )
            given = request.identity
            if not any([await f.matches(uow, user, given, security) for f in factors]):
                # Committed with the code's use: the code is spent and the try is counted.
                await audit_user(uow, clock, actor, MISMATCH_ACTION, user.id)
                return left - 1
        check_payment_password_for_user(pin, user=user, cipher=security.cipher)
        await cap.take(user)
        await ensure_apart_from_login(security, user=user, pin=pin)
        user.payment_password_hash = new_hash
        user.payment_failures = 0
        user.payment_locked_until = None
        user.updated_at = clock.now()
        await notify_user(uow.session, clock=clock, user=user, kind="payment_password_reset")
        await audit_user(uow, clock, actor, "payment_password.reset", user.id)
        return None

    return work


# --- The signed-in user's own payment password ----------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentResetStart:
    """Where a reset code for the account goes, and what else the reset will ask for."""

    phone: str  # the account's own, E.164 (show it masked)
    factors: tuple[str, ...]  # names of IDENTITY_FACTORS that apply; empty: the code alone


@dataclass(frozen=True, slots=True)
class PaymentResetCodeSent:
    start: PaymentResetStart
    sent: CodeSent


async def payment_reset_start(services: Services, *, user_id: str) -> PaymentResetStart:
    """The account's phone and the identity factors a payment-password reset of it asks for
    (the same list :func:`reset_password` checks). ``unauthorized`` if the account is gone."""

    async def work(uow: UnitOfWork) -> PaymentResetStart:
        user = await users_repository.get_user(uow.session, user_id)
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        factors = tuple([f.name for f in IDENTITY_FACTORS if await f.applies(uow, user)])
        return PaymentResetStart(phone=user.phone, factors=factors)

    return await run_unit(services.engine, work, read_only=True)


async def send_payment_reset_code(
    services: Services, *, caller: Caller, user_id: str
) -> PaymentResetCodeSent:
    """Text a ``reset_payment_password`` code to the signed-in user's own phone, with the
    rate limits of ``POST /v1/verification-codes`` (``rate_limited``, ``retry_after``)."""
    start = await payment_reset_start(services, user_id=user_id)
    sent = await request_code(
        services, caller=caller, phone=start.phone, purpose=CodePurpose.RESET_PAYMENT_PASSWORD
    )
    return PaymentResetCodeSent(start=start, sent=sent)


async def reset_own_payment_password(
    services: Services,
    *,
    user_id: str,
    verification_code: str,
    new_pin: str,
    identity: str | None,
    client_ip: str | None,
) -> None:
    """Reset the signed-in user's payment password with the code texted to the account's
    phone: :func:`reset_password` of kind ``payment`` on that phone, with its refusals."""
    start = await payment_reset_start(services, user_id=user_id)
    await reset_password(
        services,
        request=ResetRequest(
            phone=start.phone,
            verification_code=verification_code,
            kind=ResetKind.PAYMENT,
            new_password=new_pin,
            identity=identity or None,
            client_ip=client_ip,
        ),
    )
