"""Check a TOTP code (RFC 6238, 30 s steps, ±1 step) without ever accepting one twice.

The accepted step is stored (``users.totp_last_step``); a code of that step or an earlier
one is refused, so a code seen over someone's shoulder is useless once it was used.
"""

from __future__ import annotations

import hmac
from typing import cast

import pyotp
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ewallet.kit.clock import Clock
from ewallet.models.identity import User
from ewallet.security.crypto import FieldCipher

users = cast(Table, User.__table__)
STEP_SECONDS = 30
WINDOW = 1  # steps either side of now


def matching_step(secret: str, code: str, now_seconds: int) -> int | None:
    """The time step whose code equals ``code`` within the window, newest first."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = now_seconds // STEP_SECONDS
    for step in (current + 1, current, current - 1)[: 2 * WINDOW + 1]:
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


async def verify_user_totp(
    conn: AsyncConnection, *, clock: Clock, cipher: FieldCipher, user_id: str, code: str
) -> bool:
    """True and the step recorded if ``code`` is a fresh valid code of the user's TOTP."""
    row = (
        await conn.execute(
            select(users.c.totp_secret_encrypted, users.c.totp_enabled_at, users.c.totp_last_step)
            .where(users.c.id == user_id)
            .with_for_update()
        )
    ).first()
    if row is None or row.totp_secret_encrypted is None or row.totp_enabled_at is None:
        return False
    secret = cipher.decrypt(row.totp_secret_encrypted, context=f"totp:{user_id}")
    step = matching_step(secret, code, int(clock.now().timestamp()))
    if step is None or (row.totp_last_step is not None and step <= row.totp_last_step):
        return False
    await conn.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))
    return True
