"""Signing in: with the login password, with an SMS code, and finishing a new-device step-up.

* Password (``POST /v1/sessions {phone, login_password, device_id?}``): a wrong phone and a
  wrong password are the same ``invalid_credentials``, and cost the same -- an unknown phone
  is checked against a dummy argon2 hash and counted like an account
  (:mod:`ewallet.identity.login_guard.service`). On a device this account has never
  trusted, the right password earns a step-up challenge (``401 step_up_required``), not
  tokens; the first device of an account is trusted when it registers.
* SMS code (``{phone, verification_code, device_id?}``, purpose ``login``): proves the phone,
  so it also lifts a password lock -- the owner's way back in while a guesser keeps the
  password locked. On a new device it counts as the step-up, unless the account has an
  authenticator, which is then asked for.
* Step-up (``POST /v1/sessions/step-up``): SMS ``step_up`` code or TOTP; the device becomes
  trusted and the owner is told (notice ``new_device_sign_in``, also by SMS).
* Risk (:mod:`ewallet.identity.signin.checks`, the app registers the risk decision): once
  the password or the code proved right, before anything of the sign-in is written.
  ``block`` opens no session (``403 risk_declined``) and leaves the wrong-password counters
  as they were before the attempt (the attempt the password check reserved is given back;
  an SMS sign-in clears no lock); ``challenge`` asks for the step-up a new device gets, on
  any device -- unless the SMS code just proved the phone and the account has no
  authenticator, as for a new device.

Every sign-in, failure and lock is audit-logged. Requests count against
``login_per_ip_minute`` per client address before anything else is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit import Actor, record_event
from ewallet.identity import repository as users_repository
from ewallet.identity.codes.service import run_with_code
from ewallet.identity.devices import repository as devices_repo
from ewallet.identity.devices.repository import DeviceRow
from ewallet.identity.errors import InvalidCredentialsError, TooManyAttemptsError
from ewallet.identity.login_digits import login_digit_digests
from ewallet.identity.login_guard.service import (
    LoginCheck,
    LoginPacing,
    clear_login_lock,
    record_failure,
    reserve_check,
)
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions.service import IssuedTokens, new_device_key, open_session
from ewallet.identity.signin.checks import SignInAttempt, SignInVerdict, run_checks
from ewallet.identity.signin.errors import SignInDeclinedError
from ewallet.identity.stepup.service import create_challenge, prove_challenge
from ewallet.identity.stepup.views import Challenge, ChallengeRow, Proof
from ewallet.identity.throttles import sign_in_limit
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.phone import parse_phone
from ewallet.models.identity import SIGN_IN_CHALLENGE, CodePurpose, StepUpMethod, User
from ewallet.notify.service import notify_user
from ewallet.services import Services


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The client's own device id (kept across sign-ins) and a label for the device list."""

    key: str | None = None
    label: str | None = None

    @classmethod
    def given(cls, key: str | None, label: str | None) -> DeviceInfo:
        """As a request gave them: a blank label counts as none."""
        trimmed = label.strip() if label else None
        return cls(key=key, label=trimmed or None)


class _NoAccount:
    pass


class _Declined:
    """Risk control blocked the sign-in (its decision is stored in the sign-in's unit)."""


@dataclass(frozen=True, slots=True)
class _Arrival:
    """The device a sign-in comes from, looked up once, and the checks' verdict on it."""

    key: str
    label: str | None
    known: DeviceRow | None
    verdict: SignInVerdict

    @property
    def device(self) -> DeviceInfo:
        return DeviceInfo(self.key, self.label)


def _wrong() -> InvalidCredentialsError:
    return InvalidCredentialsError("wrong phone number or password")


def _locked(seconds: int) -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many wrong passwords: password sign-in is locked for a while; "
        "sign in with an SMS code or reset the password to get in now",
        retry_after=seconds,
    )


async def _charge_address(services: Services, caller: Caller) -> None:
    refused = await services.limiter.hit_all(sign_in_limit(services.settings, ip=caller.ip))
    if refused is not None:
        raise refused.error("too many sign-in attempts from this address; wait a moment")


async def sign_in(
    services: Services,
    *,
    caller: Caller,
    pacing: LoginPacing,
    phone: str,
    password: str | None,
    code: str | None,
    device: DeviceInfo,
) -> IssuedTokens:
    """``POST /v1/sessions``: with ``password`` when given, else with the SMS ``code``."""
    if password is not None:
        return await sign_in_with_password(
            services, caller=caller, pacing=pacing, phone=phone, password=password, device=device
        )
    assert code is not None
    return await sign_in_with_code(services, caller=caller, phone=phone, code=code, device=device)


async def sign_in_with_password(
    services: Services,
    *,
    caller: Caller,
    pacing: LoginPacing,
    phone: str,
    password: str,
    device: DeviceInfo,
) -> IssuedTokens:
    """Sign in with the login password (module doc).

    Refusals, in order: ``invalid_phone``; ``rate_limited`` (this address); the password
    lock (``too_many_attempts``, ``retry_after``); ``invalid_credentials`` (wrong phone or
    password, counted; the one that spends the budget answers ``too_many_attempts``);
    ``step_up_required`` on a device the account does not trust, or when risk control asks
    for it; ``risk_declined`` (risk control blocked it: no session, the attempt not
    counted as a wrong password).
    """
    e164 = parse_phone(phone)
    await _charge_address(services, caller)
    # The attempt is counted before argon2 runs (login_guard): a parallel burst gets the
    # budget's checks and no more.
    check = await reserve_check(services, caller=caller, phone=e164)
    if check.locked_for is not None:
        raise _locked(check.locked_for)
    await pacing.login_delay(check.failures)
    stored = check.stored_hash if check.stored_hash is not None else await pacing.dummy_hash.get()
    passwords = services.security.passwords
    verified = await passwords.verify(stored, password)
    if check.user_id is None or not verified:
        return await _refuse(services, caller=caller, check=check, phone=e164)
    user_id = check.user_id
    rehashed = await passwords.hash(password) if passwords.needs_rehash(stored) else None

    async def work(uow: UnitOfWork) -> IssuedTokens | Challenge | _Declined | None:
        fresh = await users_repository.get_user(uow.session, user_id, for_update=True)
        assert fresh is not None
        if fresh.login_password_hash != stored:
            return None  # the password was changed meanwhile: the old one opens nothing
        arrival = await _arrive(
            uow,
            services,
            caller=caller,
            user=fresh,
            device=device,
            method="password",
            failures=check.failures,
        )
        if arrival.verdict is SignInVerdict.BLOCK:
            _give_back(fresh, last_attempt=check.last_attempt, now=services.clock.now())
            return _Declined()
        # Checked within the budget, the right password wins, even over a lock a parallel
        # guess turned on by taking the last attempt meanwhile.
        clear_login_lock(fresh)
        if fresh.login_password_digit_digests is None:
            # An account older than the digits rule: the password is at hand, learn them now.
            fresh.login_password_digit_digests = login_digit_digests(
                services.security.digest, user_id=fresh.id, password=password
            )
        if rehashed is not None:
            fresh.login_password_hash = rehashed
        fresh.updated_at = services.clock.now()
        return await _admit(uow, services, caller=caller, user=fresh, arrival=arrival, sms=False)

    outcome = await run_unit(services.engine, work)
    if outcome is None:
        return await _refuse(services, caller=caller, check=check, phone=e164)
    return _finish(outcome)


def _give_back(user: User, *, last_attempt: bool, now: datetime) -> None:
    """A sign-in risk control blocked is no wrong password: give back the attempt the
    password check reserved (and lift the lock it turned on if it took the budget's last
    one), so the counters are as they were before the attempt."""
    user.login_failures = max(0, user.login_failures - 1)
    if last_attempt:
        user.login_locked_until = None
    user.updated_at = now


async def _refuse(services: Services, *, caller: Caller, check: LoginCheck, phone: str) -> NoReturn:
    reason = "wrong_password" if check.user_id is not None else "unknown_phone"
    locked_for = await record_failure(
        services, caller=caller, check=check, phone=phone, reason=reason
    )
    raise _locked(locked_for) if locked_for is not None else _wrong()


async def sign_in_with_code(
    services: Services, *, caller: Caller, phone: str, code: str, device: DeviceInfo
) -> IssuedTokens:
    """Sign in with an SMS ``login`` code; it also lifts a password lock.

    Refusals, in order: ``invalid_phone``; ``rate_limited`` (this address); the code's
    refusals (:func:`~ewallet.identity.codes.service.run_with_code`);
    ``invalid_credentials`` (no signable account); ``step_up_required`` (a new device of an
    account with an authenticator, or risk control asking for it); ``risk_declined`` (risk
    control blocked it: no session; the code is used up).
    """
    e164 = parse_phone(phone)
    await _charge_address(services, caller)

    async def work(uow: UnitOfWork) -> IssuedTokens | Challenge | _NoAccount | _Declined:
        user = await users_repository.find_by_phone(uow.session, e164, for_update=True)
        if user is None or not users_repository.is_signable(user):
            return _NoAccount()
        arrival = await _arrive(
            uow,
            services,
            caller=caller,
            user=user,
            device=device,
            method="sms",
            failures=user.login_failures,
        )
        if arrival.verdict is SignInVerdict.BLOCK:
            return _Declined()  # the code is used; the lock and its count stay as they are
        clear_login_lock(user)
        user.updated_at = services.clock.now()
        return await _admit(uow, services, caller=caller, user=user, arrival=arrival, sms=True)

    outcome = await run_with_code(services, work, phone=e164, purpose=CodePurpose.LOGIN, code=code)
    if isinstance(outcome, _NoAccount):
        raise _wrong()
    return _finish(outcome)


async def complete_sign_in(
    services: Services,
    *,
    caller: Caller,
    challenge_id: str,
    proof: Proof,
    device_label: str | None,
) -> IssuedTokens:
    """``POST /v1/sessions/step-up``: pass a sign-in challenge and trust its device.

    Refusals: those of :func:`~ewallet.identity.stepup.service.prove_challenge`.
    """
    method = "sms" if proof.verification_code is not None else "totp"

    async def finish(uow: UnitOfWork, challenge: ChallengeRow, user: User) -> IssuedTokens:
        context = dict(challenge.context)
        device = DeviceInfo(
            key=str(context["device_key"]), label=device_label or context.get("device_label")
        )
        clear_login_lock(user)
        user.updated_at = services.clock.now()
        return await _trust_and_open(
            uow, services, caller=caller, user=user, device=device, method=method
        )

    return await prove_challenge(
        services,
        challenge_id=challenge_id,
        proof=proof,
        accept=lambda purpose: purpose == SIGN_IN_CHALLENGE,
        user_id=None,
        finish=finish,
        actor=Actor("anonymous", None, caller.ip),
    )


def _finish(outcome: IssuedTokens | Challenge | _Declined) -> IssuedTokens:
    if isinstance(outcome, _Declined):
        raise SignInDeclinedError("risk control declined this sign-in")
    if isinstance(outcome, Challenge):
        raise outcome.error()
    return outcome


async def _arrive(
    uow: UnitOfWork,
    services: Services,
    *,
    caller: Caller,
    user: User,
    device: DeviceInfo,
    method: str,
    failures: int,
) -> _Arrival:
    """Look the device up and run the sign-in checks (:mod:`.checks`) on the attempt."""
    key = device.key or new_device_key()
    known = await devices_repo.find_device(await uow.connection(), user_id=user.id, device_key=key)
    attempt = SignInAttempt(
        method=method,
        device_key=key,
        device_first_seen=None if known is None else known.first_seen_at,
        login_failures=failures,
    )
    verdict = await run_checks(uow, services, user=user, attempt=attempt)
    return _Arrival(key, device.label or caller.user_agent, known, verdict)


async def _admit(
    uow: UnitOfWork,
    services: Services,
    *,
    caller: Caller,
    user: User,
    arrival: _Arrival,
    sms: bool,
) -> IssuedTokens | Challenge:
    """Tokens for a known device; a challenge (or, after an SMS code, trust) for a new one,
    or for any one when risk control asks for a challenge."""
    conn = await uow.connection()
    now = services.clock.now()
    key, label, known = arrival.key, arrival.label, arrival.known
    challenged = arrival.verdict is SignInVerdict.CHALLENGE
    method = "sms" if sms else "password"
    if known is not None and known.trusted and not challenged:
        await devices_repo.touch_device(conn, device_id=known.id, now=now, ip=caller.ip)
        tokens = await open_session(
            conn, services, user_id=user.id, device_id=known.id, device_key=key
        )
        await _audit_sign_in(
            conn, services, caller, user.id, known.id, method=method, new_device=False
        )
        return tokens
    if not challenged and not await devices_repo.has_devices(conn, user_id=user.id):
        # The first device of an account (created before devices were tracked) is trusted.
        device_id = await devices_repo.add_device(
            conn, user_id=user.id, device_key=key, label=label, now=now, ip=caller.ip, trusted=True
        )
        tokens = await open_session(
            conn, services, user_id=user.id, device_id=device_id, device_key=key
        )
        await _audit_sign_in(
            conn, services, caller, user.id, device_id, method=method, new_device=True
        )
        return tokens
    if sms and user.totp_enabled_at is None:
        # The SMS code just proved the phone: that is the step-up a new device needs.
        return await _trust_and_open(
            uow, services, caller=caller, user=user, device=arrival.device, method=method
        )
    return await create_challenge(
        uow,
        services,
        caller=caller,
        user=user,
        purpose=SIGN_IN_CHALLENGE,
        context={"device_key": key, "device_label": label, "ip": caller.ip},
        methods=[StepUpMethod.TOTP.value] if sms else None,
    )


async def _trust_and_open(
    uow: UnitOfWork,
    services: Services,
    *,
    caller: Caller,
    user: User,
    device: DeviceInfo,
    method: str,
) -> IssuedTokens:
    """Trust a new device, open its session and tell the owner (in-app and SMS)."""
    conn = await uow.connection()
    now = services.clock.now()
    key = device.key or new_device_key()
    existing = await devices_repo.find_device(conn, user_id=user.id, device_key=key)
    # A device trusted already (a step-up risk control asked for) is no news to the owner.
    new_device = existing is None or not existing.trusted
    if existing is not None:
        await devices_repo.trust_device(
            conn, device_id=existing.id, label=device.label, now=now, ip=caller.ip
        )
        device_id = existing.id
    else:
        device_id = await devices_repo.add_device(
            conn,
            user_id=user.id,
            device_key=key,
            label=device.label,
            now=now,
            ip=caller.ip,
            trusted=True,
        )
    tokens = await open_session(
        conn, services, user_id=user.id, device_id=device_id, device_key=key
    )
    if new_device:
        await notify_user(
            uow.session,
            clock=services.clock,
            user=user,
            kind="new_device_sign_in",
            params={"device": device.label or key[:16]},
        )
    await _audit_sign_in(
        await uow.connection(),
        services,
        caller,
        user.id,
        device_id,
        method=method,
        new_device=new_device,
    )
    return tokens


async def _audit_sign_in(
    conn: AsyncConnection,
    services: Services,
    caller: Caller,
    user_id: str,
    device_id: str,
    *,
    method: str,
    new_device: bool,
) -> None:
    await record_event(
        conn,
        clock=services.clock,
        actor=Actor("user", user_id, caller.ip),
        action="auth.signed_in",
        subject_type="device",
        subject_id=device_id,
        details={"method": method, "new_device": new_device},
    )
