"""The signed-in user's own account: profile (``GET``/``PATCH /v1/me``) and login password
(``PUT /v1/me/login-password``).

Changing the password needs the current one; a wrong one counts toward the same temporary
lock as sign-in (so a stolen, unlocked phone cannot be used to guess it at leisure). Success
signs out every *other* session -- whoever else had the account loses it -- and the owner is
told in-app and by SMS. A new password whose digits hold the payment password is refused
(``weak_password``, reason ``matches_payment_password``; see
:mod:`ewallet.identity.login_digits`), checked only once the current password is proven,
and only a few times a day (:mod:`ewallet.identity.change_caps`).
"""

from __future__ import annotations

from typing import Any

from ewallet.audit import Actor, record_event
from ewallet.identity import sessions_repository as repo
from ewallet.identity import users_repository
from ewallet.identity.change_caps import login_password_cap, take_change
from ewallet.identity.deps import Principal
from ewallet.identity.errors import InvalidCredentialsError, TooManyAttemptsError, WeakPasswordError
from ewallet.identity.login_digits import ensure_login_apart_from_pin, login_digit_digests
from ewallet.identity.login_guard import record_failure, record_success, reserve_check
from ewallet.identity.password_policy import login_password_problems
from ewallet.identity.runtime import Caller, IdentityRuntime
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError, UnauthorizedError
from ewallet.models.identity import User
from ewallet.notify.service import notify_user

UNSET: Any = object()


async def get_profile(rt: IdentityRuntime, *, principal: Principal) -> User:
    async def work(uow: UnitOfWork) -> User:
        user = await users_repository.get_user(uow.session, principal.user_id)
        if user is None:
            raise UnauthorizedError("the account no longer exists")
        return user

    return await run_unit(rt.engine, work, read_only=True)


async def update_profile(
    rt: IdentityRuntime,
    *,
    caller: Caller,
    principal: Principal,
    locale: str | None = UNSET,
    nickname: str | None = UNSET,
) -> User:
    """Change what was given (``UNSET`` leaves a field alone; a None nickname clears it)."""

    async def work(uow: UnitOfWork) -> User:
        user = await users_repository.get_user(uow.session, principal.user_id, for_update=True)
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
            user.updated_at = rt.clock.now()
            await record_event(
                await uow.connection(),
                clock=rt.clock,
                actor=Actor("user", user.id, caller.ip),
                action="user.profile_updated",
                subject_type="user",
                subject_id=user.id,
                details={"fields": changed},
            )
        return user

    return await run_unit(rt.engine, work)


async def change_login_password(
    rt: IdentityRuntime,
    *,
    caller: Caller,
    principal: Principal,
    current_password: str,
    new_password: str,
) -> None:
    user = await get_profile(rt, principal=principal)
    reasons = login_password_problems(new_password, phone=user.phone)
    if new_password == current_password:
        reasons.append("same_as_current")
    if reasons:
        raise WeakPasswordError("the new login password does not meet the policy", reasons=reasons)
    # The attempt is counted before argon2 runs, as at sign-in (login_guard).
    check = await reserve_check(rt, caller=caller, phone=user.phone, user_id=user.id)
    if check.locked_for is not None:
        raise TooManyAttemptsError(
            "too many wrong passwords: try again later", retry_after=check.locked_for
        )
    await rt.login_delay(check.failures)
    stored = check.stored_hash or user.login_password_hash
    if not await rt.security.passwords.verify(stored, current_password):
        locked_for = await record_failure(
            rt, caller=caller, check=check, phone=user.phone, reason="wrong_current_password"
        )
        if locked_for is not None:
            raise TooManyAttemptsError(
                "too many wrong passwords: try again later", retry_after=locked_for
            )
        raise InvalidCredentialsError("the current password is wrong")
    await record_success(rt, check=check)
    # Only now, to someone who knows the current password: the answer tells about the PIN,
    # so it is rationed (a success or a refusal below both count).
    await take_change(rt.limiter, login_password_cap(rt.settings), user_id=user.id)
    await ensure_login_apart_from_pin(rt.security, user=user, password=new_password)
    new_hash = await rt.security.passwords.hash(new_password)

    async def work(uow: UnitOfWork) -> None:
        fresh = await users_repository.get_user(uow.session, user.id, for_update=True)
        assert fresh is not None
        if fresh.payment_password_hash != user.payment_password_hash:
            raise ConflictError("the payment password changed meanwhile; try again")
        now = rt.clock.now()
        fresh.login_password_hash = new_hash
        fresh.login_password_digit_digests = login_digit_digests(
            rt.security.digest, user_id=fresh.id, password=new_password
        )
        fresh.login_password_changed_at = now
        fresh.login_failures = 0
        fresh.updated_at = now
        conn = await uow.connection()
        ended = await repo.revoke_sessions(
            conn,
            now=now,
            reason="password_changed",
            user_id=fresh.id,
            keep_session_id=principal.session_id,
        )
        await notify_user(uow.session, clock=rt.clock, user=fresh, kind="login_password_changed")
        uow.after_commit(rt.wake_outbox)
        await record_event(
            await uow.connection(),
            clock=rt.clock,
            actor=Actor("user", fresh.id, caller.ip),
            action="user.login_password_changed",
            subject_type="user",
            subject_id=fresh.id,
            details={"sessions_ended": len(ended)},
        )

    await run_unit(rt.engine, work)
