"""SMS verification codes: 6 random digits, stored as a keyed digest, bound to phone and
purpose, valid for a few minutes, used once, killed after too many wrong entries.

A wrong entry must count even though the use case that carried it fails and rolls back,
so :func:`run_with_code` proves the code inside the caller's unit of work and, when the
code is wrong, records the attempt in a unit of its own after that rollback.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.config import Settings
from ewallet.identity.errors import (
    TooManyAttemptsError,
    VerificationCodeExpiredError,
    VerificationCodeInvalidError,
)
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.tables import verification_codes as codes
from ewallet.security.crypto import KeyedDigest

T = TypeVar("T")


class Purpose(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    RESET_LOGIN_PASSWORD = "reset_login_password"  # noqa: S105
    RESET_PAYMENT_PASSWORD = "reset_payment_password"  # noqa: S105
    CHANGE_PHONE = "change_phone"
    STEP_UP = "step_up"
    FREEZE = "freeze"
    BIND_CARD = "bind_card"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_in: int
    resend_after: int


class _WrongCode(Exception):  # noqa: N818 -- internal signal, never leaves this module
    def __init__(self, code_id: int) -> None:
        self.code_id = code_id


def code_digest(digest: KeyedDigest, *, phone: str, purpose: str, code: str) -> str:
    return digest(f"sms-code:{phone}:{purpose}:{code}")


async def issue_code(
    conn: AsyncConnection,
    *,
    clock: Clock,
    settings: Settings,
    digest: KeyedDigest,
    phone: str,
    purpose: Purpose,
    client_ip: str | None,
) -> IssuedCode:
    """A new code for ``phone`` and ``purpose``; earlier live codes for them stop working."""
    now = clock.now()
    await conn.execute(
        update(codes)
        .where(
            codes.c.phone == phone,
            codes.c.purpose == purpose.value,
            codes.c.consumed_at.is_(None),
            codes.c.invalidated_at.is_(None),
        )
        .values(invalidated_at=now)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    await conn.execute(
        insert(codes).values(
            phone=phone,
            purpose=purpose.value,
            code_hash=code_digest(digest, phone=phone, purpose=purpose.value, code=code),
            attempts=0,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.sms_code_ttl_seconds),
            consumed_at=None,
            invalidated_at=None,
            client_ip=client_ip,
        )
    )
    return IssuedCode(
        code=code,
        expires_in=settings.sms_code_ttl_seconds,
        resend_after=settings.sms_resend_seconds,
    )


async def consume_code(
    conn: AsyncConnection,
    *,
    clock: Clock,
    digest: KeyedDigest,
    phone: str,
    purpose: Purpose,
    code: str,
) -> None:
    """Use the live code in the caller's transaction, or raise (see run_with_code)."""
    now = clock.now()
    row = (
        await conn.execute(
            select(codes)
            .where(
                codes.c.phone == phone,
                codes.c.purpose == purpose.value,
                codes.c.consumed_at.is_(None),
                codes.c.invalidated_at.is_(None),
            )
            .order_by(codes.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is None or row.expires_at <= now:
        raise VerificationCodeExpiredError("no live code for this phone and purpose")
    expected = code_digest(digest, phone=phone, purpose=purpose.value, code=code)
    if not hmac.compare_digest(row.code_hash, expected):
        raise _WrongCode(row.id)
    used = await conn.execute(
        update(codes)
        .where(
            codes.c.id == row.id, codes.c.consumed_at.is_(None), codes.c.invalidated_at.is_(None)
        )
        .values(consumed_at=now)
    )
    if used.rowcount != 1:  # a concurrent request used it first
        raise VerificationCodeExpiredError("the code was already used")


async def _count_wrong_entry(
    engine: AsyncEngine, *, clock: Clock, settings: Settings, code_id: int
) -> int:
    """Count a wrong entry in its own transaction; returns the attempts left (0: killed)."""

    async def work(uow: UnitOfWork) -> int:
        conn = await uow.connection()
        row = (await conn.execute(select(codes).where(codes.c.id == code_id))).one()
        attempts = int(row.attempts) + 1
        killed = attempts >= settings.sms_code_max_attempts
        await conn.execute(
            update(codes)
            .where(codes.c.id == code_id)
            .values(attempts=attempts, invalidated_at=clock.now() if killed else None)
        )
        return max(0, settings.sms_code_max_attempts - attempts)

    return await run_unit(engine, work)


async def run_with_code(
    engine: AsyncEngine,
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    clock: Clock,
    settings: Settings,
    digest: KeyedDigest,
    phone: str,
    purpose: Purpose,
    code: str,
) -> T:
    """Prove the code and run ``work`` in one unit of work; a wrong code counts regardless."""

    async def proven(uow: UnitOfWork) -> T:
        await consume_code(
            await uow.connection(),
            clock=clock,
            digest=digest,
            phone=phone,
            purpose=purpose,
            code=code,
        )
        return await work(uow)

    try:
        return await run_unit(engine, proven)
    except _WrongCode as wrong:
        remaining = await _count_wrong_entry(
            engine, clock=clock, settings=settings, code_id=wrong.code_id
        )
    if remaining == 0:
        raise TooManyAttemptsError(
            "too many wrong entries: this code no longer works; ask for a new one",
            retry_after=settings.sms_resend_seconds,
        )
    raise VerificationCodeInvalidError("wrong code", remaining_attempts=remaining)


def code_extra(issued: IssuedCode) -> dict[str, Any]:
    return {"expires_in": issued.expires_in, "resend_after": issued.resend_after}
