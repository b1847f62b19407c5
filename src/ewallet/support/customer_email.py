"""A customer's proven email address: mail from it is matched to their account.

The wallet's identity has no email (sign-in is by phone), so support keeps its own: the
customer names an address, we mail a 6-digit code to it, and only a proven address is used
to match incoming mail to the account (an unproven one could be anybody's). A wrong code
spends the code: a new one must be asked for, so codes cannot be guessed in a loop.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Final

from sqlalchemy import select

from ewallet.kit.clock import Clock, as_utc
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.i18n import EN
from ewallet.kit.ids import new_id
from ewallet.models.identity import User
from ewallet.models.support import SupportCustomerEmail
from ewallet.support import email_out
from ewallet.support.errors import SupportEmailTakenError
from ewallet.support.policy import SupportPolicy

CODE_LIFETIME: Final = timedelta(minutes=30)


def _digest(user_id: str, email: str, code: str) -> str:
    return hashlib.sha256(f"{user_id}\x00{email}\x00{code}".encode()).hexdigest()


async def verified_user_for(uow: UnitOfWork, email: str) -> str | None:
    """The customer who proved ``email``, if anyone did."""
    return (
        await uow.session.execute(
            select(SupportCustomerEmail.user_id).where(
                SupportCustomerEmail.email == email.strip().lower(),
                SupportCustomerEmail.verified_at.is_not(None),
            )
        )
    ).scalar_one_or_none()


async def current(uow: UnitOfWork, user_id: str) -> SupportCustomerEmail | None:
    return (
        await uow.session.execute(
            select(SupportCustomerEmail).where(SupportCustomerEmail.user_id == user_id)
        )
    ).scalar_one_or_none()


async def claim(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy, user_id: str, email: str
) -> None:
    """Name an address and mail it a code; the previous address stays until the new is proven."""
    if await verified_user_for(uow, email) not in (None, user_id):
        raise SupportEmailTakenError("another account has proven this address")
    now = clock.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = await current(uow, user_id)
    if row is None:
        row = SupportCustomerEmail(id=new_id("sem"), user_id=user_id, created_at=now)
        uow.session.add(row)
    row.email = email
    row.verified_at = None
    row.code_hash = _digest(user_id, email, code)
    row.code_expires_at = now + CODE_LIFETIME
    user = await uow.session.get(User, user_id)
    english = user is not None and user.locale == EN
    await uow.session.flush()
    await email_out.queue_plain_mail(
        uow.session,
        clock=clock,
        policy=policy,
        to=email,
        subject="Your ewallet email code" if english else "ewallet 邮箱验证码",
        text=(
            f"Your code is {code}. It is valid for 30 minutes."
            if english
            else f"您的邮箱验证码是 {code}，30 分钟内有效。"
        ),
        kind="support_email_code",
        user=user,
        message_key=f"email-code-{row.id}-{int(now.timestamp())}",
    )


async def verify(
    uow: UnitOfWork, *, clock: Clock, user_id: str, code: str
) -> SupportCustomerEmail | None:
    """Prove the address with ``code``; None when wrong or expired (the code is spent either way).

    Returning instead of raising lets the caller commit the spent code before answering 400.
    """
    row = await current(uow, user_id)
    if row is None or row.code_hash is None or row.code_expires_at is None:
        return None
    stored, expires_at = row.code_hash, as_utc(row.code_expires_at)
    row.code_hash = None
    row.code_expires_at = None
    await uow.session.flush()
    if expires_at <= clock.now() or not hmac.compare_digest(
        stored, _digest(user_id, row.email, code)
    ):
        return None
    if await verified_user_for(uow, row.email) not in (None, user_id):
        raise SupportEmailTakenError("another account has proven this address")
    row.verified_at = clock.now()
    await uow.session.flush()
    return row
