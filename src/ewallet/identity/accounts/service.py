"""The account itself: registration, the profile and the login password.

Registration (``POST /v1/users {phone, verification_code, login_password, locale?}``):
order matters for what a caller can learn. The password policy is checked first (no code
is spent on a password that would be refused anyway); then the ``register`` code is proven
-- a wrong one counts even though the call fails -- and only then is a taken phone answered
with ``phone_already_registered``, to someone who just proved they hold that phone. The
proven code is used up either way. The account starts at tier 1 (phone only). The
registering device is the account's first trusted device and gets the first session; the
event is audit-logged with the user as actor.

Changing the login password (``PUT /v1/me/login-password``) needs the current one; a wrong
one counts toward the same temporary lock as sign-in (so a stolen, unlocked phone cannot be
used to guess it at leisure). Success signs out every *other* session -- whoever else had
the account loses it -- and the owner is told in-app and by SMS. A new password whose
digits hold the payment password is refused (``weak_password``, reason
``matches_payment_password``; see :mod:`ewallet.identity.login_digits`), checked only once
the current password is proven, and only a few times a day
(:mod:`ewallet.identity.change_caps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from ewallet.audit import Actor, record_event
from ewallet.identity import repository as users_repository
from ewallet.identity.change_caps import login_password_cap, take_change
from ewallet.identity.codes.service import run_with_code
from ewallet.identity.devices import repository as devices_repo
from ewallet.identity.errors import (
    InvalidCredentialsError,
    PhoneAlreadyRegisteredError,
    TooManyAttemptsError,
    WeakPasswordError,
)
from ewallet.identity.login_digits import ensure_login_apart_from_pin, login_digit_digests
from ewallet.identity.login_guard.service import (
    LoginPacing,
    record_failure,
    record_success,
    reserve_check,
)
from ewallet.identity.password_policy import check_login_password, login_password_problems
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions import repository as sessions_repo
from ewallet.identity.sessions.service import IssuedTokens, new_device_key, open_session
from ewallet.identity.signin.service import DeviceInfo
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, UnauthorizedError
from ewallet.kit.phone import parse_phone
from ewallet.models.identity import CodePurpose, SessionEndReason, User
from ewallet.notify.service import notify_user
from ewallet.services import Services

UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Registered:
    user: User
    tokens: IssuedTokens


class _Taken:
    pass


def _taken() -> PhoneAlreadyRegisteredError:
    return PhoneAlreadyRegisteredError(
        "this phone number already has an account: sign in, or reset the password"
    )


async def register(
    services: Services,
    *,
    caller: Caller,
    phone: str,
    verification_code: str,
    login_password: str,
    locale: str | None,
    device: DeviceInfo,
) -> Registered:
    """Open a class-I account and sign its device in (module doc).

    Refusals, in order: ``invalid_phone``; ``weak_password`` (every reason); the code's
    refusals (:func:`~ewallet.identity.codes.service.run_with_code`);
    ``phone_already_registered``.
    """
    e164 = parse_phone(phone)
    check_login_password(login_password, phone=e164)
    # Hashed before the transaction: argon2 takes tens of milliseconds, the write lock should not.
    password_hash = await services.security.passwords.hash(login_password)
    device_key = device.key or new_device_key()
    label = device.label or caller.user_agent

    async def work(uow: UnitOfWork) -> Registered | _Taken:
        if await users_repository.find_by_phone(uow.session, e164) is not None:
            return _Taken()  # committed: the proven code is used up
        now = services.clock.now()
        user = await users_repository.add_user(
            uow.session,
            phone=e164,
            password_hash=password_hash,
            locale=locale or caller.locale,
            now=now,
        )
        user.login_password_digit_digests = login_digit_digests(
            services.security.digest, user_id=user.id, password=login_password
        )
        conn = await uow.connection()
        device_id = await devices_repo.add_device(
            conn,
            user_id=user.id,
            device_key=device_key,
            label=label,
            now=now,
            ip=caller.ip,
            trusted=True,
        )
        tokens = await open_session(
            conn, services, user_id=user.id, device_id=device_id, device_key=device_key
        )
        await record_event(
            conn,
            clock=services.clock,
            actor=Actor("user", user.id, caller.ip),
            action="user.registered",
            subject_type="user",
            subject_id=user.id,
            details={"device_id": device_id, "tier": user.tier},
        )
        return Registered(user=user, tokens=tokens)

    try:
        outcome = await run_with_code(
            services, work, phone=e164, purpose=CodePurpose.REGISTER, code=verification_code
        )
    except IntegrityError:
        # Another registration of the same phone committed between our check and insert.
        raise _taken() from None
    if isinstance(outcome, _Taken):
        raise _taken()
    return outcome


async def get_profile(services: Services, *, user_id: str) -> User:
    """``GET /v1/me``: the account (``unauthorized`` if it no longer exists)."""

    async def work(uow: UnitOfWork) -> User:
        user = await users_repository.get_user(uow.session, user_id)
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        return user

    return await run_unit(services.engine, work, read_only=True)


async def update_profile(
    services: Services,
    *,
    caller: Caller,
    user_id: str,
    locale: str | None = UNSET,
    nickname: str | None = UNSET,
) -> User:
    """``PATCH /v1/me``: change what was given (``UNSET`` leaves a field alone; a None
    nickname clears it); audited when something changed."""

    async def work(uow: UnitOfWork) -> User:
        user = await users_repository.get_user(uow.session, user_id, for_update=True)
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        changed: list[str] = []
        if locale is not UNSET and locale is not None and locale != user.locale:
            user.locale = locale
            changed.append("locale")
        if nickname is not UNSET and nickname != user.nickname:
            user.nickname = nickname
            changed.append("nickname")
        if changed:
            user.updated_at = services.clock.now()
            await record_event(
                await uow.connection(),
                clock=services.clock,
                actor=Actor("user", user.id, caller.ip),
                action="user.profile_updated",
                subject_type="user",
                subject_id=user.id,
                details={"fields": changed},
            )
        return user

    return await run_unit(services.engine, work)


async def change_login_password(
    services: Services,
    *,
    caller: Caller,
    pacing: LoginPacing,
    user_id: str,
    session_id: str,
    current_password: str,
    new_password: str,
) -> None:
    """``PUT /v1/me/login-password`` (module doc); every session but ``session_id`` ends.

    Refusals, in order: ``weak_password`` (the policy, or the same as the current one);
    the password lock (``too_many_attempts``); ``invalid_credentials`` (the current
    password is wrong; counted); ``rate_limited`` (the daily cap); ``weak_password``
    (``matches_payment_password``); ``conflict`` (the PIN changed meanwhile).
    """
    user = await get_profile(services, user_id=user_id)
    reasons = login_password_problems(new_password, phone=user.phone)
    if new_password == current_password:
        reasons.append("same_as_current")
    if reasons:
        raise WeakPasswordError("the new login password does not meet the policy", reasons=reasons)
    # The attempt is counted before argon2 runs, as at sign-in (login_guard).
    check = await reserve_check(services, caller=caller, phone=user.phone, user_id=user.id)
    if check.locked_for is not None:
        raise TooManyAttemptsError(
            "too many wrong passwords: try again later", retry_after=check.locked_for
        )
    await pacing.login_delay(check.failures)
    stored = check.stored_hash or user.login_password_hash
    if not await services.security.passwords.verify(stored, current_password):
        locked_for = await record_failure(
            services, caller=caller, check=check, phone=user.phone, reason="wrong_current_password"
        )
        if locked_for is not None:
            raise TooManyAttemptsError(
                "too many wrong passwords: try again later", retry_after=locked_for
            )
        raise InvalidCredentialsError("the current password is wrong")
    await record_success(services, check=check)
    # Only now, to someone who knows the current password: the answer tells about the PIN,
    # so it is rationed (a success or a refusal below both count).
    await take_change(services.limiter, login_password_cap(services.settings), user_id=user.id)
    await ensure_login_apart_from_pin(services.security, user=user, password=new_password)
    new_hash = await services.security.passwords.hash(new_password)

    async def work(uow: UnitOfWork) -> None:
        fresh = await users_repository.get_user(uow.session, user.id, for_update=True)
        assert fresh is not None
        if fresh.payment_password_hash != user.payment_password_hash:
            raise ConflictError("the payment password changed meanwhile; try again")
        now = services.clock.now()
        fresh.login_password_hash = new_hash
        fresh.login_password_digit_digests = login_digit_digests(
            services.security.digest, user_id=fresh.id, password=new_password
        )
        fresh.login_password_changed_at = now
        fresh.login_failures = 0
        fresh.updated_at = now
        conn = await uow.connection()
        ended = await sessions_repo.revoke_sessions(
            conn,
            now=now,
            reason=SessionEndReason.PASSWORD_CHANGED,
            user_id=fresh.id,
            keep_session_id=session_id,
        )
        await notify_user(
            uow.session, clock=services.clock, user=fresh, kind="login_password_changed"
        )
        await record_event(
            await uow.connection(),
            clock=services.clock,
            actor=Actor("user", fresh.id, caller.ip),
            action="user.login_password_changed",
            subject_type="user",
            subject_id=fresh.id,
            details={"sessions_ended": len(ended)},
        )

    await run_unit(services.engine, work)
