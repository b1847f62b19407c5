"""Record a notice for the user and queue its SMS (through the outbox, after commit).

A notice keeps machine values in its ``params``: the moment it was made (``time``) and
any moment a caller passes, as ISO 8601 (a ``datetime`` is stored in UTC, to the
minute). Every rendering -- the SMS now, the in-app list later, in whichever language
the reader has then -- shows them in Beijing time in words (:mod:`ewallet.notify.shown`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.kit.clock import Clock, as_utc
from ewallet.kit.i18n import EN, ZH_CN, Locale
from ewallet.kit.ids import new_id
from ewallet.models.identity import User
from ewallet.models.tables import notifications
from ewallet.notify.templates import NOTICES, SENDER, render, with_anti_phishing
from ewallet.worker.outbox import enqueue

SMS_TOPIC = "sms.send"


def user_locale(user: User) -> Locale:
    return EN if user.locale == "en" else ZH_CN


async def notify_user(
    session: AsyncSession,
    *,
    clock: Clock,
    user: User,
    kind: str,
    params: dict[str, Any] | None = None,
    sms: bool = True,
    security: bool = True,
) -> str:
    """Write an in-app notice and, if asked, an SMS; both commit with the caller's change."""
    if kind not in NOTICES:
        raise ValueError(f"unknown notice {kind!r}")
    now = clock.now()
    values = {"time": now, **(params or {})}
    values = {key: _stored(value) for key, value in values.items()}
    notice_id = new_id("ntf")
    await session.execute(
        insert(notifications),
        {
            "id": notice_id,
            "user_id": user.id,
            "kind": kind,
            "params": values,
            "created_at": now,
            "read_at": None,
            "is_security": security,
        },
    )
    if sms:
        locale = user_locale(user)
        _, body = render(kind, values, locale)
        await enqueue(
            session,
            topic=SMS_TOPIC,
            payload={
                "to": user.phone,
                "sender": SENDER,
                "body": with_anti_phishing(body, user.anti_phishing_code, locale),
                "kind": kind,
            },
            clock=clock,
        )
    return notice_id


def _stored(value: Any) -> Any:
    """A moment as ISO 8601 UTC to the minute (what a notice shows); anything else as is."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="minutes")
    return value
