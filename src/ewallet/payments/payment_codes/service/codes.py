"""Issuing payment codes: the code a user shows, derived from the user's secret.

The secret (:mod:`...sealing`) is made on the first code, and a freeze or an unfreeze
(recorded as audit events ``account.frozen`` / ``account.unfrozen``) retires it: the secret's
row remembers the newest such event it postdates, a newer one makes it stale, codes made
with it are refused (``payment_code_invalid``) and the next code issued first replaces it.
Reading the audit log this way keeps the freeze code (identity) free of payment-code
knowledge, and it cannot be bypassed: every freeze path writes that event in its unit.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.identity.errors import PaymentPasswordNotSetError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import RateLimitedError
from ewallet.payments.payment_codes import repository
from ewallet.payments.payment_codes.codec import (
    ACCEPTED_STEPS,
    COUNTERS_PER_STEP,
    LOOKUP_SPACE,
    STEP_SECONDS,
    make_code,
    step_start,
    time_step,
)
from ewallet.payments.payment_codes.sealing import UserSecret, new_secret, opened, seal
from ewallet.payments.payment_codes.views import IssuedCode
from ewallet.security.crypto import FieldCipher
from ewallet.services import Services


async def current_secret(
    conn: AsyncConnection, cipher: FieldCipher, *, user_id: str, now: datetime
) -> UserSecret:
    """The user's live secret: made if missing, replaced if a freeze/unfreeze retired it
    (its row remembers the newest such audit event it postdates; a newer one retires it).

    Call with the user's row locked, so two first requests cannot both make one.
    """
    epoch = await repository.freeze_epoch(conn, user_id)
    found = await repository.secret_of_user(conn, user_id)
    if found is not None and found.freeze_event_id >= epoch:
        return opened(cipher, found)
    secret = new_secret()
    sealed = seal(cipher, user_id, secret)
    if found is None:
        lookup_id = await _free_lookup_id(conn)
        await repository.insert_secret(
            conn,
            user_id=user_id,
            lookup_id=lookup_id,
            sealed=sealed,
            freeze_event_id=epoch,
            now=now,
        )
    else:
        lookup_id = found.lookup_id
        await repository.replace_secret(
            conn, user_id=user_id, sealed=sealed, freeze_event_id=epoch, now=now
        )
    return UserSecret(user_id, lookup_id, secret, epoch, sealed)


async def _free_lookup_id(conn: AsyncConnection) -> int:
    """A random lookup id nobody has (the unique constraint settles a race)."""
    while True:
        candidate = secrets.randbelow(LOOKUP_SPACE)
        if not await repository.lookup_id_taken(conn, candidate):
            return candidate


async def issue_code(services: Services, user_id: str) -> IssuedCode:
    """``GET /v1/me/payment-code``: the code to show now.

    Refused for a frozen account (``account_frozen``), before a payment password exists
    (``payment_password_not_set``: charges above the no-PIN limit are confirmed with it),
    and when ten codes were used this minute (``rate_limited``, ``retry_after``). Asking
    again within a step gives the same code until a charge uses it.
    """
    security, clock = services.security, services.clock

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
        used = await repository.last_counter(conn, user_id=user_id, step=step)
        counter = 0 if used is None else used + 1
        if counter >= COUNTERS_PER_STEP:
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
        # Accepted through the following step too (module doc of the codec).
        expires_at = next_step_at + timedelta(seconds=STEP_SECONDS * (ACCEPTED_STEPS - 1))
        return IssuedCode(code, expires_at, wait)

    try:
        return await run_unit(services.engine, work)
    except IntegrityError:  # two users drew the same lookup id at once: draw again
        return await run_unit(services.engine, work)
