"""The sign-in failure lock, shared by sign-in, the idle unlock, the password change and
the confirmations: each proof of a password or code is counted on the person's locked row
*before* it is checked, and an unknown email is locked like an account (in the rate-limit
store), at the same argon2 cost."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.errors import TooManyAttemptsError
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.merchants.people import repository as repo
from ewallet.security.ratelimit import Rule
from ewallet.services import Services

_DUMMY_PASSWORD = "ewallet-no-such-merchant-user"  # noqa: S105 -- hashed for equal cost
_dummy: dict[int, str] = {}


def _locked(locked_until: datetime, now: datetime) -> TooManyAttemptsError:
    return TooManyAttemptsError(
        "too many failed sign-ins; the account is locked for a while",
        retry_after=max(1, math.ceil((locked_until - now).total_seconds())),
    )


async def count_attempt(
    conn: AsyncConnection, services: Services, row: repo.MerchantUserRow
) -> TooManyAttemptsError | None:
    """One proof of the password counted on the locked row *before* it is checked; the
    lock's refusal while it holds. The attempt that spends the budget turns the lock on."""
    now = services.clock.now()
    failures, locked_until = row.failures, row.locked_until
    if locked_until is not None and locked_until > now:
        return _locked(locked_until, now)
    if locked_until is not None:
        failures, locked_until = 0, None  # the lock was served: a fresh budget
    failures += 1
    if failures >= services.settings.login_lock_threshold:
        locked_until = now + timedelta(minutes=services.settings.login_lock_minutes)
    await repo.update_user(conn, row.id, failures=failures, locked_until=locked_until)
    return None


async def reserve_attempt(
    services: Services, *, email: str | None = None, user_id: str | None = None
) -> repo.MerchantUserRow | None:
    async def work(uow: UnitOfWork) -> repo.MerchantUserRow | TooManyAttemptsError | None:
        conn = await uow.connection()
        if user_id is not None:
            row = await repo.user_by_id(conn, user_id, for_update=True)
        else:
            row = await repo.user_by_email(conn, email or "", for_update=True)
        if row is None:
            return None
        refused = await count_attempt(conn, services, row)
        return row if refused is None else refused

    found = await run_unit(services.engine, work)
    if isinstance(found, TooManyAttemptsError):
        raise found
    return found


async def dummy_hash(services: Services) -> str:
    key = id(services.security.passwords)
    if key not in _dummy:
        _dummy[key] = await services.security.passwords.hash(_DUMMY_PASSWORD)
    return _dummy[key]


async def refuse_unknown_lock(services: Services, email: str) -> None:
    """An unknown email is locked like an account: ``login_lock_threshold`` tries within
    ``login_lock_minutes``, then ``429 too_many_attempts`` (counted in the rate-limit store
    under a keyed digest), so a lock does not tell whether the email belongs to someone."""
    settings = services.settings
    rule = Rule(
        "merchant-sign-in-unknown",
        settings.login_lock_threshold,
        timedelta(minutes=settings.login_lock_minutes),
    )
    digest = services.security.digest("merchant-user-email:" + email)
    refused = await services.limiter.hit(rule, digest)
    if refused is not None:
        raise TooManyAttemptsError("the account is locked", retry_after=refused.seconds)
