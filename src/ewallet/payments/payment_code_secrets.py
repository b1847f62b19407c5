"""Each user's payment-code secret: made on first use, retired by a freeze or an unfreeze.

The secret is 32 random bytes, encrypted with the field cipher (bound to the user id, so
a row copied to another user does not decrypt). Freezing and unfreezing are recorded as
audit events (``account.frozen`` / ``account.unfrozen``); the secret row remembers the
newest such event it postdates. When a newer one exists the secret is *stale*: codes made
with it are refused (``payment_code_invalid``), and the next code issued first replaces it.
Reading the audit log this way keeps the freeze code (identity) free of payment-code
knowledge, and it cannot be bypassed: every freeze path writes that event in its unit.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ewallet.identity.errors import PaymentPasswordNotSetError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import RateLimitedError
from ewallet.models.tables import audit_events
from ewallet.models.tables import payment_code_charges as code_charges
from ewallet.models.tables import payment_code_secrets as code_secrets
from ewallet.payments.payment_code import (
    ACCEPTED_STEPS,
    COUNTERS_PER_STEP,
    LOOKUP_SPACE,
    STEP_SECONDS,
    make_code,
    step_start,
    time_step,
)
from ewallet.security.context import SecurityContext
from ewallet.security.crypto import FieldCipher

FREEZE_ACTIONS: Final = ("account.frozen", "account.unfrozen")


@dataclass(frozen=True, slots=True)
class UserSecret:
    user_id: str
    lookup_id: int
    secret: bytes
    freeze_event_id: int
    sealed: str  # the stored (encrypted) form: equal again means the row is unchanged


def _context(user_id: str) -> str:
    return f"payment-code secret:{user_id}"


def _seal(cipher: FieldCipher, user_id: str, secret: bytes) -> str:
    return cipher.encrypt(base64.b64encode(secret).decode("ascii"), context=_context(user_id))


def _opened(cipher: FieldCipher, row: Any) -> UserSecret:
    secret = base64.b64decode(cipher.decrypt(row.secret_encrypted, context=_context(row.user_id)))
    return UserSecret(row.user_id, row.lookup_id, secret, row.freeze_event_id, row.secret_encrypted)


def freeze_epoch_query(user_id: str) -> Select[Any]:
    """The query of :func:`freeze_epoch`, to fold into a statement with other reads."""
    return select(func.coalesce(func.max(audit_events.c.id), 0)).where(
        audit_events.c.subject_id == user_id,
        audit_events.c.subject_type == "user",
        audit_events.c.action.in_(FREEZE_ACTIONS),
    )


async def freeze_epoch(conn: AsyncConnection, user_id: str) -> int:
    """The id of the user's newest freeze or unfreeze audit event (0: never frozen)."""
    return int((await conn.execute(freeze_epoch_query(user_id))).scalar_one())


async def secret_by_lookup(
    conn: AsyncConnection, cipher: FieldCipher, lookup_id: int
) -> UserSecret | None:
    row = (
        await conn.execute(select(code_secrets).where(code_secrets.c.lookup_id == lookup_id))
    ).first()
    return None if row is None else _opened(cipher, row)


async def _free_lookup_id(conn: AsyncConnection) -> int:
    """A random lookup id nobody has (the unique constraint settles a race)."""
    while True:
        candidate = secrets.randbelow(LOOKUP_SPACE)
        taken = await conn.execute(
            select(code_secrets.c.user_id).where(code_secrets.c.lookup_id == candidate)
        )
        if taken.first() is None:
            return candidate


async def current_secret(
    conn: AsyncConnection, cipher: FieldCipher, *, user_id: str, now: datetime
) -> UserSecret:
    """The user's live secret: made if missing, replaced if a freeze/unfreeze retired it.

    Call with the user's row locked, so two first requests cannot both make one.
    """
    epoch = await freeze_epoch(conn, user_id)
    row = (
        await conn.execute(select(code_secrets).where(code_secrets.c.user_id == user_id))
    ).first()
    if row is not None and row.freeze_event_id >= epoch:
        return _opened(cipher, row)
    secret = secrets.token_bytes(32)
    sealed = _seal(cipher, user_id, secret)
    values = {
        "secret_encrypted": sealed,
        "freeze_event_id": epoch,
        "rotated_at": now,
    }
    if row is None:
        lookup_id = await _free_lookup_id(conn)
        await conn.execute(
            insert(code_secrets).values(
                user_id=user_id, lookup_id=lookup_id, created_at=now, **values
            )
        )
    else:
        lookup_id = row.lookup_id
        await conn.execute(
            update(code_secrets).where(code_secrets.c.user_id == user_id).values(**values)
        )
    return UserSecret(user_id, lookup_id, secret, epoch, sealed)


async def next_counter(conn: AsyncConnection, *, user_id: str, step: int) -> int | None:
    """The first counter of ``step`` no charge has used, or None when all ten are used."""
    used = (
        await conn.execute(
            select(func.max(code_charges.c.counter)).where(
                code_charges.c.user_id == user_id, code_charges.c.step == step
            )
        )
    ).scalar()
    counter = 0 if used is None else int(used) + 1
    return counter if counter < COUNTERS_PER_STEP else None


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime
    refresh_after: int  # seconds until the next step, when the app should fetch a new code


async def issue_code(
    engine: AsyncEngine, *, clock: Clock, security: SecurityContext, user_id: str
) -> IssuedCode:
    """``GET /v1/me/payment-code``: the code to show now.

    Refused for a frozen account (``account_frozen``) and before a payment password exists
    (``payment_password_not_set``: charges above the no-PIN limit are confirmed with it).
    Asking again within a step gives the same code until a charge uses it.
    """

    async def work(uow: UnitOfWork) -> IssuedCode:
        user = await locked_user(uow, user_id)
        ensure_active(user)
        if user.payment_password_hash is None:
            raise PaymentPasswordNotSetError("set a payment password to use the payment code")
        conn = await uow.connection()
        now = clock.now()
        secret = await current_secret(conn, security.cipher, user_id=user_id, now=now)
        step = time_step(now)
        next_step_at = datetime.fromtimestamp(step_start(step + 1), UTC)
        wait = max(1, int((next_step_at - now).total_seconds()))
        counter = await next_counter(conn, user_id=user_id, step=step)
        if counter is None:
            raise RateLimitedError(
                "ten payment codes were used this minute; wait for the next one", retry_after=wait
            )
        code = make_code(
            secret.secret,
            lookup_id=secret.lookup_id,
            step=step,
            counter=counter,
            blinding=security.digest,
        )
        # Accepted through the following step too (module doc of payment_code).
        expires_at = next_step_at + timedelta(seconds=STEP_SECONDS * (ACCEPTED_STEPS - 1))
        return IssuedCode(code, expires_at, wait)

    try:
        return await run_unit(engine, work)
    except IntegrityError:  # two users drew the same lookup id at once: draw again
        return await run_unit(engine, work)
