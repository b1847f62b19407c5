"""Registration: ``POST /v1/users {phone, verification_code, login_password, locale?}``.

Order matters for what a caller can learn: the password policy is checked first (no code is
spent on a password that would be refused anyway); then the ``register`` code is proven --
a wrong one counts even though the call fails -- and only then is a taken phone answered
with ``phone_already_registered``, to someone who just proved they hold that phone. The
proven code is used up either way.

The account starts at tier 1 (phone only). The registering device is the account's first
trusted device and gets the first session; the event is audit-logged with the user as actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ewallet.audit import Actor, record_event
from ewallet.identity import sessions_repository as repo
from ewallet.identity import users_repository
from ewallet.identity.codes import Purpose, run_with_code
from ewallet.identity.errors import PhoneAlreadyRegisteredError
from ewallet.identity.login_digits import login_digit_digests
from ewallet.identity.password_policy import check_login_password
from ewallet.identity.runtime import Caller, IdentityRuntime
from ewallet.identity.sessions import IssuedTokens, new_device_key, open_session
from ewallet.identity.signin import DeviceInfo
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.phone import parse_phone
from ewallet.models.identity import User


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
    rt: IdentityRuntime,
    *,
    caller: Caller,
    phone: str,
    verification_code: str,
    login_password: str,
    locale: str | None,
    device: DeviceInfo,
) -> Registered:
    e164 = parse_phone(phone)
    check_login_password(login_password, phone=e164)
    # Hashed before the transaction: argon2 takes tens of milliseconds, the write lock should not.
    password_hash = await rt.security.passwords.hash(login_password)
    device_key = device.key or new_device_key()
    label = device.label or caller.user_agent

    async def work(uow: UnitOfWork) -> Registered | _Taken:
        if await users_repository.find_by_phone(uow.session, e164) is not None:
            return _Taken()  # committed: the proven code is used up
        now = rt.clock.now()
        user = await users_repository.add_user(
            uow.session,
            phone=e164,
            password_hash=password_hash,
            locale=locale or caller.locale,
            now=now,
        )
        user.login_password_digit_digests = login_digit_digests(
            rt.security.digest, user_id=user.id, password=login_password
        )
        conn = await uow.connection()
        device_id = await repo.add_device(
            conn,
            user_id=user.id,
            device_key=device_key,
            label=label,
            now=now,
            ip=caller.ip,
            trusted=True,
        )
        tokens = await open_session(
            conn, rt, user_id=user.id, device_id=device_id, device_key=device_key
        )
        await record_event(
            conn,
            clock=rt.clock,
            actor=Actor("user", user.id, caller.ip),
            action="user.registered",
            subject_type="user",
            subject_id=user.id,
            details={"device_id": device_id, "tier": user.tier},
        )
        return Registered(user=user, tokens=tokens)

    try:
        outcome = await run_with_code(
            rt.engine,
            work,
            clock=rt.clock,
            settings=rt.settings,
            digest=rt.security.digest,
            phone=e164,
            purpose=Purpose.REGISTER,
            code=verification_code,
        )
    except IntegrityError:
        # Another registration of the same phone committed between our check and insert.
        raise _taken() from None
    if isinstance(outcome, _Taken):
        raise _taken()
    return outcome
