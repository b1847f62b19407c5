"""Support mail in the caller's unit of work: queuing it, and customers' proven addresses.

Mail leaves through the outbox (``email.send``, handled by :mod:`ewallet.support.jobs`), so
it goes only if the caller's unit commits. The wallet's identity has no email (sign-in is by
phone), so support keeps its own: the customer names an address, we mail a 6-digit code to
it, and only a proven address is used to match incoming mail to the account (an unproven one
could be anybody's). A wrong code spends the code: a new one must be asked for, so codes
cannot be guessed in a loop.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Final

from ewallet.kit.clock import as_utc
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.human_time import in_words
from ewallet.kit.i18n import EN
from ewallet.kit.ids import new_id
from ewallet.models.identity import User
from ewallet.models.support import SupportCustomerEmail, SupportTicket, SupportTicketMessage
from ewallet.services import Services
from ewallet.support import repository as tickets_repo
from ewallet.support.errors import SupportEmailTakenError
from ewallet.support.mail import compose
from ewallet.support.mail import repository as repo
from ewallet.support.policy import SupportPolicy
from ewallet.worker.outbox import enqueue

CODE_LIFETIME: Final = timedelta(minutes=30)


async def _queue(services: Services, uow: UnitOfWork, mail: compose.OutgoingEmail) -> None:
    await enqueue(
        uow.session, topic=compose.EMAIL_TOPIC, payload=mail.payload(), clock=services.clock
    )


async def _owner(uow: UnitOfWork, ticket: SupportTicket) -> User | None:
    return None if ticket.user_id is None else await tickets_repo.user(uow.session, ticket.user_id)


async def customer_address(uow: UnitOfWork, ticket: SupportTicket) -> str | None:
    """Where mail about this ticket goes: the address it came from, else a proven one."""
    if ticket.email:
        return ticket.email
    if ticket.user_id is None:
        return None
    return await repo.verified_email_of(uow.session, ticket.user_id)


async def queue_ticket_reply(
    services: Services, uow: UnitOfWork, *, ticket: SupportTicket, message: SupportTicketMessage
) -> str | None:
    """Mail an agent's reply to the customer, if they have an address; returns its Message-ID.

    The caller stores the returned id on the message, so the customer's answer threads back.
    """
    to = await customer_address(uow, ticket)
    if to is None:
        return None
    policy = SupportPolicy.of(services)
    in_reply_to, references = compose.threading(
        await repo.thread_message_ids(uow.session, ticket.id)
    )
    message_id = compose.new_message_id(message.id, ticket.reference, policy)
    mail = compose.OutgoingEmail(
        to=to,
        subject=compose.ticket_subject(ticket.subject, ticket.reference),
        text=compose.ticket_body(message.body, ticket.reference, await _owner(uow, ticket)),
        message_id=message_id,
        kind="ticket_reply",
        in_reply_to=in_reply_to,
        references=references,
        reply_to=compose.plus_address(policy.support_email, ticket.reference),
    )
    await _queue(services, uow, mail)
    return message_id


async def queue_ticket_acknowledgement(
    services: Services, uow: UnitOfWork, *, ticket: SupportTicket
) -> str | None:
    """Tell the customer by mail that their request has a ticket number (automatic mail)."""
    to = await customer_address(uow, ticket)
    if to is None:
        return None
    policy = SupportPolicy.of(services)
    in_reply_to, references = compose.threading(
        await repo.thread_message_ids(uow.session, ticket.id)
    )
    user = await _owner(uow, ticket)
    message_id = compose.new_message_id(f"ack-{ticket.id}", ticket.reference, policy)
    locale = compose.locale_of(user)
    received = in_words(ticket.created_at, locale)
    text = compose.ACKNOWLEDGEMENT.get(locale).format(reference=ticket.reference, time=received)
    mail = compose.OutgoingEmail(
        to=to,
        subject=compose.ticket_subject(ticket.subject, ticket.reference),
        text=compose.ticket_body(text, ticket.reference, user),
        message_id=message_id,
        kind="ticket_acknowledgement",
        in_reply_to=in_reply_to,
        references=references,
        reply_to=compose.plus_address(policy.support_email, ticket.reference),
        auto_submitted=True,
    )
    await _queue(services, uow, mail)
    return message_id


async def verified_user_for(uow: UnitOfWork, email: str) -> str | None:
    """The customer who proved ``email``, if anyone did."""
    return await repo.verified_user_for(uow.session, email.strip().lower())


async def current_address(uow: UnitOfWork, user_id: str) -> SupportCustomerEmail | None:
    return await repo.customer_email(uow.session, user_id)


def _digest(user_id: str, email: str, code: str) -> str:
    return hashlib.sha256(f"{user_id}\x00{email}\x00{code}".encode()).hexdigest()


async def claim_address(services: Services, uow: UnitOfWork, *, user_id: str, email: str) -> None:
    """Name an address and mail it a code; the previous address stays until the new is proven.

    Refusal: ``support_email_taken`` when another account proved the address.
    """
    if await verified_user_for(uow, email) not in (None, user_id):
        raise SupportEmailTakenError("another account has proven this address")
    now = services.clock.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = await current_address(uow, user_id)
    if row is None:
        row = SupportCustomerEmail(id=new_id("sem"), user_id=user_id, created_at=now)
    row.email = email
    row.verified_at = None
    row.code_hash = _digest(user_id, email, code)
    row.code_expires_at = now + CODE_LIFETIME
    await repo.add_customer_email(uow.session, row)
    user = await tickets_repo.user(uow.session, user_id)
    english = user is not None and user.locale == EN
    policy = SupportPolicy.of(services)
    mail = compose.OutgoingEmail(
        to=email,
        subject="Your ewallet email code" if english else "ewallet 邮箱验证码",
        text=compose.protected(
            f"Your code is {code}. It is valid for 30 minutes."
            if english
            else f"您的邮箱验证码是 {code}，30 分钟内有效。",
            user,
        ),
        message_id=f"email-code-{row.id}-{int(now.timestamp())}@{policy.mail_domain}",
        kind="support_email_code",
        auto_submitted=True,
    )
    await _queue(services, uow, mail)


async def verify_address(
    services: Services, uow: UnitOfWork, *, user_id: str, code: str
) -> SupportCustomerEmail | None:
    """Prove the address with ``code``; None when wrong or expired (the code is spent either way).

    Returning instead of raising lets the caller commit the spent code before answering 400.
    Refusal: ``support_email_taken`` when another account proved the address meanwhile.
    """
    row = await current_address(uow, user_id)
    if row is None or row.code_hash is None or row.code_expires_at is None:
        return None
    stored, expires_at = row.code_hash, as_utc(row.code_expires_at)
    row.code_hash = None
    row.code_expires_at = None
    await uow.session.flush()
    if expires_at <= services.clock.now() or not hmac.compare_digest(
        stored, _digest(user_id, row.email, code)
    ):
        return None
    if await verified_user_for(uow, row.email) not in (None, user_id):
        raise SupportEmailTakenError("another account has proven this address")
    row.verified_at = services.clock.now()
    await uow.session.flush()
    return row
