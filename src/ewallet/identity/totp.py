"""The authenticator app (TOTP, RFC 6238): enrol, confirm, turn off, recovery codes.

Enrolment is two steps so a mistyped secret cannot lock anyone out: ``start_enrolment``
stores a fresh secret (encrypted, context ``totp:<user>`` -- what
:mod:`ewallet.identity.totp_check` decrypts) that does nothing yet; ``confirm_enrolment``
turns it on once the app shows a matching code, and hands out 10 recovery codes, once.

Recovery codes are 60 random bits each, so a keyed digest (not argon2) is enough to store
them; each works once. Turning the authenticator off needs a current code or a recovery
code; wrong ones are audit-logged (``totp.disable_failed``) and count toward the account's
bound on wrong codes (:class:`~ewallet.identity.totp_check.TotpBound`, shared with step-up):
the one that spends it locks codes and tells the owner, and while locked every code is
refused outright (``too_many_attempts``) -- a stolen session must not be able to grind
through codes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

import pyotp
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.errors import (
    TotpAlreadyEnabledError,
    TotpInvalidError,
    TotpNotEnabledError,
)
from ewallet.identity.guards import locked_user
from ewallet.identity.totp_check import (
    DISABLE_FAILED,
    STEP_SECONDS,
    TotpBound,
    check_bounded,
    matching_step,
    verify_user_totp,
)
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.phone import mask_phone
from ewallet.models.tables import totp_recovery_codes as recovery_codes
from ewallet.notify.service import notify_user
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import KeyedDigest

ISSUER: Final = "ewallet"
RECOVERY_CODE_COUNT: Final = 10
_RECOVERY_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford: no i, l, o, u


class HasTotp(Protocol):
    @property
    def totp_enabled_at(self) -> datetime | None: ...


def totp_enabled(user: HasTotp) -> bool:
    """True once the authenticator is confirmed: sign-in step-up may then offer TOTP."""
    return user.totp_enabled_at is not None


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def recovery_code_hash(digest: KeyedDigest, *, user_id: str, code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return digest(f"totp-recovery:{user_id}:{normalized}")


async def use_recovery_code(
    conn: AsyncConnection, *, clock: Clock, digest: KeyedDigest, user_id: str, code: str
) -> bool:
    """Spend one unused recovery code of the user in the caller's transaction.

    True when it was unused (it is now marked used); the conditional update makes two
    concurrent uses of the same code succeed at most once. Sign-in step-up may call this.
    """
    spent = await conn.execute(
        update(recovery_codes)
        .where(
            recovery_codes.c.user_id == user_id,
            recovery_codes.c.code_hash == recovery_code_hash(digest, user_id=user_id, code=code),
            recovery_codes.c.used_at.is_(None),
        )
        .values(used_at=clock.now())
    )
    return spent.rowcount == 1


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str


async def start_enrolment(
    engine: AsyncEngine, *, clock: Clock, security: SecurityContext, user_id: str, actor: Actor
) -> TotpEnrolment:
    """A new secret for the app; any earlier unconfirmed one stops counting."""

    async def work(uow: UnitOfWork) -> TotpEnrolment:
        user = await locked_user(uow, user_id)
        if totp_enabled(user):
            raise TotpAlreadyEnabledError("turn the authenticator off before enrolling again")
        secret = pyotp.random_base32()
        user.totp_secret_encrypted = security.cipher.encrypt(secret, context=f"totp:{user_id}")
        user.totp_last_step = None
        user.updated_at = clock.now()
        await audit_user(uow, clock, actor, "totp.enrolment_started", user_id)
        uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
            name=mask_phone(user.phone), issuer_name=ISSUER
        )
        return TotpEnrolment(secret=secret, otpauth_uri=uri)

    return await run_unit(engine, work)


async def confirm_enrolment(
    engine: AsyncEngine,
    *,
    clock: Clock,
    security: SecurityContext,
    user_id: str,
    totp_code: str,
    actor: Actor,
) -> list[str]:
    """Turn the authenticator on if ``totp_code`` matches; returns the recovery codes."""

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
        conn = await uow.connection()
        await conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        await conn.execute(
            insert(recovery_codes),
            [
                {
                    "user_id": user_id,
                    "code_hash": recovery_code_hash(security.digest, user_id=user_id, code=code),
                    "created_at": now,
                    "used_at": None,
                }
                for code in codes
            ],
        )
        await notify_user(uow.session, clock=clock, user=user, kind="totp_enabled")
        await audit_user(uow, clock, actor, "totp.enabled", user_id)
        return codes

    return await run_unit(engine, work)


async def disable_totp(
    engine: AsyncEngine,
    *,
    clock: Clock,
    security: SecurityContext,
    user_id: str,
    totp_code: str | None,
    recovery_code: str | None,
    actor: Actor,
    bound: TotpBound,
) -> None:
    """Turn the authenticator off with a fresh code or an unused recovery code."""

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
        conn = await uow.connection()
        user.totp_secret_encrypted = None
        user.totp_enabled_at = None
        user.totp_last_step = None
        user.updated_at = clock.now()
        await conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
        await notify_user(uow.session, clock=clock, user=user, kind="totp_disabled")
        method = "totp_code" if totp_code is not None else "recovery_code"
        await audit_user(uow, clock, actor, "totp.disabled", user_id, details={"with": method})
        return None

    outcome = await run_unit(engine, work)
    if isinstance(outcome, Exception):
        raise outcome
    if outcome is not None:
        raise TotpInvalidError("wrong or already used code", remaining_attempts=outcome)
