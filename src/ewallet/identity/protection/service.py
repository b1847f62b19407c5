"""Keeping an account safe: freezing it at once, unfreezing it (staff), the anti-phishing code.

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
from datetime import datetime
from typing import Final

from ewallet.audit.service import Actor, audit_user
from ewallet.identity.codes.service import CodeSent, request_code, run_with_code
from ewallet.identity.errors import AccountNotFrozenError
from ewallet.identity.guards import ensure_active, locked_user
from ewallet.identity.payment_password.service import require_payment_password
from ewallet.identity.repository import get_user
from ewallet.identity.runtime import Caller
from ewallet.identity.sessions.repository import end_user_sessions
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError, ValidationFailedError
from ewallet.models.identity import CodePurpose, SessionEndReason, User, UserStatus
from ewallet.notify.service import notify_user
from ewallet.services import Services

ANTI_PHISHING_MIN: Final = 2
ANTI_PHISHING_MAX: Final = 8
_ANTI_PHISHING: Final = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]+")


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
    ``risk``. Every session but ``keep_session_id`` is signed out; the owner is told.

    Refusal: ``account_frozen`` when it is frozen (or closed) already -- nothing changes.
    Locks the user's row first (``FOR NO KEY UPDATE``, step 1 of the lock order).
    """
    user = await locked_user(uow, user_id)
    ensure_active(user)
    now = clock.now()
    user.status = UserStatus.FROZEN
    user.frozen_at = now
    user.frozen_by = frozen_by
    user.frozen_reason = reason[:200]
    user.updated_at = now
    await end_user_sessions(
        await uow.connection(),
        user_id=user_id,
        now=now,
        reason=SessionEndReason.ACCOUNT_FROZEN,
        keep_session_id=keep_session_id or "",
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
    services: Services, *, user_id: str, session_id: str, proof: FreezeProof, actor: Actor
) -> datetime:
    """``POST /v1/me/freeze``: the owner's freeze; returns when it took effect. The calling
    session stays signed in.

    Refusals, in order -- with the payment password: the PIN check's
    (:func:`~ewallet.identity.payment_password.service.require_payment_password`, which
    answers ``account_frozen`` first); with an SMS code: ``account_frozen`` (before the
    code is spent), then the code's refusals.
    """

    async def work(uow: UnitOfWork) -> datetime:
        user = await freeze_user(
            uow,
            clock=services.clock,
            user_id=user_id,
            frozen_by="self",
            reason="frozen by the owner",
            hotline=services.settings.hotline,
            actor=actor,
            keep_session_id=session_id,
        )
        assert user.frozen_at is not None
        return user.frozen_at

    if proof.payment_password is not None:
        await require_payment_password(
            services, user_id=user_id, pin=proof.payment_password, actor=actor
        )
        return await run_unit(services.engine, work)

    async def phone_of(uow: UnitOfWork) -> str:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)  # spare the code when there is nothing to do
        return user.phone

    phone = await run_unit(services.engine, phone_of, read_only=True)
    return await run_with_code(
        services,
        work,
        phone=phone,
        purpose=CodePurpose.FREEZE,
        code=proof.verification_code or "",
    )


async def request_freeze_code(services: Services, *, caller: Caller, user_id: str) -> CodeSent:
    """Text the owner an SMS code of purpose ``freeze`` (the signed-in way to ask for one,
    as the web wallet does; the API asks with the phone number at
    ``POST /v1/verification-codes``, which sends the same code under the same limits).

    Refusals, in order: ``account_frozen`` (nothing to freeze: no code is sent);
    ``rate_limited`` (the code limits of :func:`~ewallet.identity.codes.service.request_code`).
    """

    async def phone_of(uow: UnitOfWork) -> str:
        user = await get_user(uow.session, user_id)
        if user is None:
            raise NotFoundError("no such user")
        ensure_active(user)
        return user.phone

    phone = await run_unit(services.engine, phone_of, read_only=True)
    return await request_code(services, caller=caller, phone=phone, purpose=CodePurpose.FREEZE)


async def unfreeze_user(
    uow: UnitOfWork, *, clock: Clock, user_id: str, staff_id: str, reason: str
) -> None:
    """Staff lift a freeze (any ``frozen_by``) in the caller's unit, audited and notified.

    The staff endpoint checks the role and the owner's identity before calling this; it
    refuses ``account_not_frozen`` for an active account. Locks the user's row first.
    """
    user = await locked_user(uow, user_id)
    if user.status != UserStatus.FROZEN:
        raise AccountNotFrozenError("the account is not frozen")
    previous = user.frozen_by
    now = clock.now()
    user.status = UserStatus.ACTIVE
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
    services: Services, *, user_id: str, code: str | None, actor: Actor
) -> str | None:
    """``PUT``/``DELETE /v1/me/anti-phishing-code``: set (or, with None, remove) the code
    that starts every message we send; the owner is told, the change audited.

    Refusal: ``validation_error`` (not 2-8 letters, digits or Chinese characters).
    """
    value = None if code is None else normalize_anti_phishing_code(code)
    clock = services.clock

    async def work(uow: UnitOfWork) -> str | None:
        user = await locked_user(uow, user_id)
        user.anti_phishing_code = value
        user.updated_at = clock.now()
        # The notice's SMS already carries the new code: the owner sees it works.
        await notify_user(uow.session, clock=clock, user=user, kind="anti_phishing_code_changed")
        details = {"set": value is not None}
        await audit_user(uow, clock, actor, "anti_phishing_code.changed", user_id, details=details)
        return value

    return await run_unit(services.engine, work)
