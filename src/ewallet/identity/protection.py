"""Keeping an account safe: freezing it at once, the anti-phishing code, and notices.

A freeze is the owner's emergency brake: proven with the payment password or an SMS code
(purpose ``freeze``), it takes effect in the same transaction, signs out every other
device, and from then on every money action answers ``account_frozen`` (through
:func:`ewallet.identity.payment_password.service.verify_payment_password` and
:func:`~ewallet.identity.guards.ensure_not_frozen`). Only staff unfreeze, after
checking who is asking (:func:`unfreeze_user`), because whoever froze it may not be the
owner -- and whoever wants it unfrozen may not be either.

The anti-phishing code is a short word the owner picks; every SMS and email we send starts
with it (:func:`ewallet.notify.templates.with_anti_phishing`), so a message without it is
not from us.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, audit_user
from ewallet.config import Settings
from ewallet.identity.codes import Purpose, run_with_code
from ewallet.identity.errors import AccountNotFrozenError, TooManyAttemptsError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password.service import verify_payment_password
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.kit.i18n import Locale
from ewallet.kit.pagination import Page, decode_cursor, encode_cursor
from ewallet.models.identity import User
from ewallet.models.tables import audit_events, notifications, sessions
from ewallet.notify.service import notify_user
from ewallet.notify.templates import render
from ewallet.security.context import SecurityContext

ANTI_PHISHING_MIN: Final = 2
ANTI_PHISHING_MAX: Final = 8
_ANTI_PHISHING: Final = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]+")


async def failures_left(
    uow: UnitOfWork, *, clock: Clock, action: str, user_id: str, limit: int, window: timedelta
) -> int:
    """Tries left before ``limit`` failures (audit events ``action``) within ``window``.

    Raises ``too_many_attempts`` (``retry_after``: until the oldest failure ages out) when
    none is left. The audit log is the counter, so the limit needs no table of its own and
    holds across processes; the failures must be recorded in committed units.
    """
    now = clock.now()
    conn = await uow.connection()
    row = (
        await conn.execute(
            select(func.count(), func.min(audit_events.c.occurred_at)).where(
                audit_events.c.action == action,
                audit_events.c.subject_id == user_id,
                audit_events.c.occurred_at > now - window,
            )
        )
    ).one()
    count, oldest = int(row[0]), row[1]
    if count >= limit:
        wait = (oldest + window - now).total_seconds()
        raise TooManyAttemptsError("too many failed attempts; try later", retry_after=int(wait) + 1)
    return limit - count


# --- Freezing ---------------------------------------------------------------------------


async def freeze_user(
    uow: UnitOfWork,
    *,
    clock: Clock,
    user_id: str,
    frozen_by: str,
    reason: str,
    hotline: str,
    actor: Actor,
    keep_session_id: str | None = None,
) -> User:
    """Freeze the account in the caller's unit: ``frozen_by`` is ``self``, ``staff:<id>`` or
    ``risk``. Every session but ``keep_session_id`` is signed out; the owner is told."""
    user = await locked_user(uow, user_id)
    ensure_active(user)  # already frozen: account_frozen, nothing changes
    now = clock.now()
    user.status = "frozen"
    user.frozen_at = now
    user.frozen_by = frozen_by
    user.frozen_reason = reason[:200]
    user.updated_at = now
    conn = await uow.connection()
    await conn.execute(
        update(sessions)
        .where(
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.id != (keep_session_id or ""),
        )
        .values(revoked_at=now, revoked_reason="account_frozen")
    )
    await notify_user(
        uow.session, clock=clock, user=user, kind="account_frozen", params={"hotline": hotline}
    )
    details = {"frozen_by": frozen_by, "reason": reason[:200]}
    await audit_user(uow, clock, actor, "account.frozen", user_id, details=details)
    return user


@dataclass(frozen=True, slots=True)
class FreezeProof:
    """Exactly one of the two: the payment password, or an SMS code of purpose ``freeze``."""

    payment_password: str | None = None
    verification_code: str | None = None


async def freeze_own_account(
    engine: AsyncEngine,
    *,
    clock: Clock,
    settings: Settings,
    security: SecurityContext,
    user_id: str,
    session_id: str,
    proof: FreezeProof,
    actor: Actor,
) -> datetime:
    """The owner's freeze (``POST /v1/me/freeze``); returns when it took effect."""

    async def work(uow: UnitOfWork) -> datetime:
        user = await freeze_user(
            uow,
            clock=clock,
            user_id=user_id,
            frozen_by="self",
            reason="frozen by the owner",
            hotline=settings.hotline,
            actor=actor,
            keep_session_id=session_id,
        )
        assert user.frozen_at is not None
        return user.frozen_at

    if proof.payment_password is not None:
        await verify_payment_password(
            engine,
            clock=clock,
            settings=settings,
            security=security,
            user_id=user_id,
            pin=proof.payment_password,
            actor=actor,
        )
        return await run_unit(engine, work)

    async def phone_of(uow: UnitOfWork) -> str:
        user = await uow.session.get(User, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)  # spare the code when there is nothing to do
        return user.phone

    phone = await run_unit(engine, phone_of, read_only=True)
    return await run_with_code(
        engine,
        work,
        clock=clock,
        settings=settings,
        digest=security.digest,
        phone=phone,
        purpose=Purpose.FREEZE,
        code=proof.verification_code or "",
    )


async def unfreeze_user(
    uow: UnitOfWork, *, clock: Clock, user_id: str, staff_id: str, reason: str
) -> None:
    """Staff lift a freeze (any ``frozen_by``) in the caller's unit, audited and notified.

    The staff endpoint checks the role and the owner's identity before calling this; it
    refuses ``account_not_frozen`` for an active account.
    """
    user = await locked_user(uow, user_id)
    if user.status != "frozen":
        raise AccountNotFrozenError("the account is not frozen")
    previous = user.frozen_by
    now = clock.now()
    user.status = "active"
    user.frozen_at = None
    user.frozen_by = None
    user.frozen_reason = None
    user.updated_at = now
    await notify_user(uow.session, clock=clock, user=user, kind="account_unfrozen")
    details = {"reason": reason[:200], "was_frozen_by": previous}
    await audit_user(
        uow, clock, Actor("staff", staff_id), "account.unfrozen", user_id, details=details
    )


# --- Anti-phishing code -----------------------------------------------------------------


def normalize_anti_phishing_code(raw: str) -> str:
    """2-8 letters, digits or Chinese characters (full-width forms folded to ASCII)."""
    code = unicodedata.normalize("NFKC", raw).strip()
    if not (ANTI_PHISHING_MIN <= len(code) <= ANTI_PHISHING_MAX and _ANTI_PHISHING.fullmatch(code)):
        raise ValidationFailedError(
            "the anti-phishing code has 2 to 8 letters, digits or Chinese characters"
        )
    return code


async def set_anti_phishing_code(
    engine: AsyncEngine, *, clock: Clock, user_id: str, code: str | None, actor: Actor
) -> str | None:
    """Set (or, with None, remove) the code that starts every message we send."""
    value = None if code is None else normalize_anti_phishing_code(code)

    async def work(uow: UnitOfWork) -> str | None:
        user = await locked_user(uow, user_id)
        user.anti_phishing_code = value
        user.updated_at = clock.now()
        # The notice's SMS already carries the new code: the owner sees it works.
        await notify_user(uow.session, clock=clock, user=user, kind="anti_phishing_code_changed")
        details = {"set": value is not None}
        await audit_user(uow, clock, actor, "anti_phishing_code.changed", user_id, details=details)
        return value

    return await run_unit(engine, work)


# --- Notices ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: str
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool
    security: bool


async def list_notifications(
    engine: AsyncEngine, *, user_id: str, locale: Locale, limit: int, cursor: str | None
) -> Page[NoticeView]:
    """The user's notices, newest first, rendered in ``locale``."""
    condition = notifications.c.user_id == user_id
    if cursor is not None:
        position = decode_cursor(cursor)
        try:
            at, last_id = datetime.fromisoformat(str(position["t"])), str(position["id"])
        except (KeyError, ValueError):
            raise ValidationFailedError("malformed cursor") from None
        older = or_(
            notifications.c.created_at < at,
            and_(notifications.c.created_at == at, notifications.c.id < last_id),
        )
        condition = and_(condition, older)

    async def work(uow: UnitOfWork) -> list[NoticeView]:
        conn = await uow.connection()
        rows = await conn.execute(
            select(notifications)
            .where(condition)
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .limit(limit + 1)
        )
        views = []
        for row in rows:
            title, body = render(row.kind, dict(row.params), locale)
            views.append(
                NoticeView(
                    row.id,
                    row.kind,
                    title,
                    body,
                    row.created_at,
                    row.read_at is not None,
                    row.is_security,
                )
            )
        return views

    views = await run_unit(engine, work, read_only=True)
    next_cursor = None
    if len(views) > limit:
        views = views[:limit]
        last = views[-1]
        next_cursor = encode_cursor({"t": last.created_at.isoformat(), "id": last.id})
    return Page(items=views, next_cursor=next_cursor)


async def mark_notification_read(
    engine: AsyncEngine, *, clock: Clock, user_id: str, notification_id: str
) -> None:
    """Mark one of the user's notices read (again: no change); anyone else's is not found."""

    async def work(uow: UnitOfWork) -> None:
        conn = await uow.connection()
        owned = and_(notifications.c.id == notification_id, notifications.c.user_id == user_id)
        found = await conn.scalar(select(func.count()).select_from(notifications).where(owned))
        if not found:
            raise NotFoundError("no such notification")
        await conn.execute(
            update(notifications)
            .where(owned, notifications.c.read_at.is_(None))
            .values(read_at=clock.now())
        )

    await run_unit(engine, work)
