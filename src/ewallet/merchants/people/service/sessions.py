"""Portal sessions: signing in (email, password and, once enrolled, the authenticator),
the session behind the portal's cookie, sign-out and the idle lock's unlock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.audit.service import Actor
from ewallet.identity.errors import InvalidCredentialsError
from ewallet.identity.totp.otp import matching_step
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import UnauthorizedError
from ewallet.kit.ids import new_id
from ewallet.merchants.people import repository as repo
from ewallet.merchants.people.errors import MerchantUserDisabledError
from ewallet.merchants.people.service.audit_trail import audit, audit_alone
from ewallet.merchants.people.service.failure_lock import (
    dummy_hash,
    refuse_unknown_lock,
    reserve_attempt,
)
from ewallet.merchants.people.views import PortalSession, PortalUser
from ewallet.models.merchant_users import MerchantRole, MerchantUserStatus
from ewallet.models.merchants import MerchantStatus
from ewallet.security.ratelimit import Rule
from ewallet.services import Services

WRONG_CREDENTIALS = "wrong email, password or authenticator code"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def totp_context(user_id: str) -> str:
    """Binds an encrypted TOTP secret to its row: copied to another row, it won't open."""
    return f"merchant-user-totp:{user_id}"


def must_enrol(role: str, enrolled_at: datetime | None) -> bool:
    return role != MerchantRole.CASHIER and enrolled_at is None


def ip_rule(services: Services) -> Rule:
    return Rule("merchant-sign-in-ip", services.settings.login_per_ip_minute, timedelta(minutes=1))


async def sign_in(
    services: Services, *, email: str, password: str, totp_code: str, ip: str | None
) -> PortalSession:
    """A new portal session (``merchant_user.signed_in`` audited).

    Refusals in order: ``429 rate_limited`` (the address); ``429 too_many_attempts`` (the
    account is locked, nothing checked); ``401 invalid_credentials`` (unknown email, wrong
    password, wrong or reused authenticator code); ``403 forbidden`` (right credentials of
    a disabled person or merchant).
    """
    email = normalize_email(email)
    refused = await services.limiter.hit(ip_rule(services), ip or "unknown")
    if refused is not None:
        raise refused.error("too many sign-in attempts from this address")
    row = await reserve_attempt(services, email=email)
    if row is None:
        await refuse_unknown_lock(services, email)
        await services.security.passwords.verify(await dummy_hash(services), password)
        await audit_alone(
            services,
            Actor("anonymous", None, ip),
            "merchant_user.sign_in_failed",
            None,
            {"reason": "unknown_email"},
        )
        raise InvalidCredentialsError(WRONG_CREDENTIALS)
    password_ok = await services.security.passwords.verify(row.password_hash, password)

    async def settle(uow: UnitOfWork) -> PortalSession | Exception:
        conn = await uow.connection()
        now = services.clock.now()
        current = await repo.user_by_id(conn, row.id, for_update=True)
        assert current is not None  # merchant users are disabled, never deleted
        failure, step = None, None
        if not password_ok or current.password_hash != row.password_hash:
            failure = "password"
        elif current.totp_enrolled_at is not None and current.totp_secret_encrypted:
            secret = services.security.cipher.decrypt(
                current.totp_secret_encrypted, context=totp_context(current.id)
            )
            step = matching_step(secret, totp_code.strip(), int(now.timestamp()))
            if step is None:
                failure = "totp"
            elif current.totp_last_step is not None and step <= current.totp_last_step:
                failure = "totp_reused"
        if failure is not None:
            await audit(
                conn,
                services,
                Actor("anonymous", None, ip),
                "merchant_user.sign_in_failed",
                current.id,
                {"reason": failure, "failures": current.failures},
            )
            return InvalidCredentialsError(WRONG_CREDENTIALS)
        changes: dict[str, Any] = {"failures": 0, "locked_until": None}
        if step is not None:
            changes["totp_last_step"] = step
        actor = Actor("merchant", current.id, ip)
        merchant_active = await _merchant_active(conn, current.merchant_id)
        if current.status != MerchantUserStatus.ACTIVE or not merchant_active:
            await repo.update_user(conn, current.id, **changes)
            await audit(
                conn,
                services,
                actor,
                "merchant_user.sign_in_refused",
                current.id,
                {"reason": "disabled"},
            )
            return MerchantUserDisabledError("this account is disabled")
        session_id = new_id("mss")
        expires_at = now + timedelta(hours=services.settings.merchant_session_hours)
        await repo.update_user(conn, current.id, last_sign_in_at=now, **changes)
        await repo.insert_session(
            conn, session_id=session_id, user_id=current.id, now=now, expires_at=expires_at
        )
        await audit(
            conn, services, actor, "merchant_user.signed_in", current.id, {"session_id": session_id}
        )
        return PortalSession(
            session_id=session_id,
            expires_at=expires_at,
            must_enrol_totp=must_enrol(current.role, current.totp_enrolled_at),
            must_change_password=current.must_change_password,
        )

    outcome = await run_unit(services.engine, settle)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def _merchant_active(conn: AsyncConnection, merchant_id: str) -> bool:
    return await repo.merchant_status(conn, merchant_id) == MerchantStatus.ACTIVE


async def portal_session(services: Services, *, session_id: str, ip: str | None) -> PortalUser:
    """The merchant user of a live session (the portal's cookie names it). ``401
    unauthorized`` for a session unknown, ended, or of a disabled person or merchant. One
    read-only unit, no lock."""

    async def load(uow: UnitOfWork) -> repo.SessionGrant | None:
        return await repo.session_grant(await uow.connection(), session_id)

    grant = await run_unit(services.engine, load, read_only=True)
    now = services.clock.now()
    if grant is None:
        raise UnauthorizedError("unknown session")
    ended = grant.revoked_at is not None or grant.expires_at <= now
    if (
        ended
        or grant.status != MerchantUserStatus.ACTIVE
        or grant.merchant_status != MerchantStatus.ACTIVE
    ):
        raise UnauthorizedError("the session has ended; sign in again")
    return PortalUser(
        user_id=grant.user_id,
        merchant_id=grant.merchant_id,
        merchant_name=grant.merchant_name,
        session_id=session_id,
        role=grant.role,
        name=grant.name,
        email=grant.email,
        must_change_password=grant.must_change_password,
        must_enrol_totp=must_enrol(grant.role, grant.totp_enrolled_at),
        session_expires_at=grant.expires_at,
        ip=ip,
    )


async def sign_out(services: Services, user: PortalUser) -> None:
    """End the caller's session at once (``merchant_user.signed_out`` audited)."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        await repo.revoke_session(conn, user.session_id, services.clock.now())
        await audit(
            conn,
            services,
            user.actor(),
            "merchant_user.signed_out",
            user.user_id,
            {"session_id": user.session_id},
        )

    await run_unit(services.engine, work)


async def unlock(services: Services, user: PortalUser, *, password: str) -> None:
    """Unlock a portal left idle: the password again, counted against the sign-in lock.
    ``401 invalid_credentials`` when wrong; ``429 too_many_attempts`` once locked (the
    caller then ends the session)."""
    row = await reserve_attempt(services, user_id=user.user_id)
    assert row is not None  # a live session's row exists
    matches = await services.security.passwords.verify(row.password_hash, password)

    async def settle(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        if matches:
            await repo.update_user(conn, row.id, failures=0, locked_until=None)
        action = "merchant_user.unlocked" if matches else "merchant_user.unlock_failed"
        await audit(conn, services, user.actor(), action, row.id, {"session_id": user.session_id})

    await run_unit(services.engine, settle)
    if not matches:
        raise InvalidCredentialsError("wrong password")
