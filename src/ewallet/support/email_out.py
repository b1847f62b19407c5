"""Composing support mail and queuing it on the outbox (``email.send``), in the caller's unit.

Every mail to a customer with an account starts with their anti-phishing code (the same
prefix the SMS carries). Mail about a ticket is threaded three ways so any mail client and
our own listener find the ticket again: ``Message-ID``/``In-Reply-To``/``References``, the
token ``[#TKT-XXXXXXXX]`` in the subject and a ``Reply-To`` plus-address
(``service+TKT-XXXXXXXX@...``). Our automatic mail (acknowledgements) is marked
``Auto-Submitted: auto-replied`` (RFC 3834) so well-behaved responders never answer it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.kit.clock import Clock
from ewallet.kit.i18n import EN, ZH_CN, Locale, Text
from ewallet.models.identity import User
from ewallet.models.support import SupportCustomerEmail, SupportTicket, SupportTicketMessage
from ewallet.notify.templates import with_anti_phishing
from ewallet.support.policy import SupportPolicy
from ewallet.worker.outbox import enqueue

EMAIL_TOPIC: Final = "email.send"
SENDER_NAME: Final = "ewallet 客服"
# Older Message-IDs beyond this many are left out of References (clients cope; headers stay small).
MAX_REFERENCES: Final = 20

_ACK = Text(
    "您好，我们已收到您的来信，工单号 {reference}。客服会尽快回复；直接回复本邮件即可补充信息。",
    "Hello, we received your message; its ticket number is {reference}. An agent will reply "
    "soon; reply to this mail to add anything.",
)
_FOOTER = Text(
    "—— 直接回复本邮件即可继续工单 {reference}。我们不会在邮件中索要密码或验证码。",
    "-- Reply to this mail to continue ticket {reference}. We never ask for passwords or codes "
    "by mail.",
)


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    message_id: str
    kind: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    auto_submitted: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "message_id": self.message_id,
            "kind": self.kind,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "reply_to": self.reply_to,
            "auto_submitted": self.auto_submitted,
        }


def ticket_token(reference: str) -> str:
    return f"[#{reference}]"


def plus_address(support_email: str, reference: str) -> str:
    local, _, domain = support_email.partition("@")
    return f"{local}+{reference}@{domain}"


def ticket_subject(subject: str, reference: str) -> str:
    """``Re: <subject> [#TKT-...]``, without piling up prefixes or tokens on each reply."""
    clean = subject.replace(ticket_token(reference), "").strip()
    while clean.lower().startswith(("re:", "回复:", "回复：", "aw:")):
        clean = clean.split(":", 1)[-1].split("：", 1)[-1].strip()
    return f"Re: {clean or reference} {ticket_token(reference)}"


def new_message_id(message_id: str, reference: str, policy: SupportPolicy) -> str:
    """Our Message-ID for a ticket message (stored without angle brackets)."""
    return f"{message_id}.{reference}@{policy.mail_domain}"


async def customer_address(session: AsyncSession, ticket: SupportTicket) -> str | None:
    """Where mail about this ticket goes: the address it came from, else a verified one."""
    if ticket.email:
        return ticket.email
    if ticket.user_id is None:
        return None
    verified = await session.execute(
        select(SupportCustomerEmail.email).where(
            SupportCustomerEmail.user_id == ticket.user_id,
            SupportCustomerEmail.verified_at.is_not(None),
        )
    )
    return verified.scalar_one_or_none()


async def _thread(session: AsyncSession, ticket_id: str) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) from the Message-IDs already on the ticket, oldest first."""
    rows = (
        await session.execute(
            select(SupportTicketMessage.email_message_id, SupportTicketMessage.author_type)
            .where(
                SupportTicketMessage.ticket_id == ticket_id,
                SupportTicketMessage.email_message_id.is_not(None),
            )
            .order_by(SupportTicketMessage.created_at, SupportTicketMessage.id)
        )
    ).all()
    ids = [str(row.email_message_id) for row in rows]
    customer_ids = [str(row.email_message_id) for row in rows if row.author_type == "customer"]
    in_reply_to = customer_ids[-1] if customer_ids else (ids[-1] if ids else None)
    references = ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return in_reply_to, tuple(references)


async def _owner(session: AsyncSession, ticket: SupportTicket) -> User | None:
    return None if ticket.user_id is None else await session.get(User, ticket.user_id)


def _locale(user: User | None) -> Locale:
    return EN if user is not None and user.locale == "en" else ZH_CN


def _body(text: str, reference: str, user: User | None) -> str:
    locale = _locale(user)
    code = user.anti_phishing_code if user is not None else None
    footer = _FOOTER.get(locale).format(reference=reference)
    return with_anti_phishing(f"{text}\n\n{footer}\n", code, locale)


async def queue_ticket_reply(
    session: AsyncSession,
    *,
    clock: Clock,
    policy: SupportPolicy,
    ticket: SupportTicket,
    message: SupportTicketMessage,
) -> str | None:
    """Mail an agent's reply to the customer, if they have an address; returns its Message-ID.

    The caller stores the returned id on the message, so the customer's answer threads back.
    """
    to = await customer_address(session, ticket)
    if to is None:
        return None
    in_reply_to, references = await _thread(session, ticket.id)
    message_id = new_message_id(message.id, ticket.reference, policy)
    mail = OutgoingEmail(
        to=to,
        subject=ticket_subject(ticket.subject, ticket.reference),
        text=_body(message.body, ticket.reference, await _owner(session, ticket)),
        message_id=message_id,
        kind="ticket_reply",
        in_reply_to=in_reply_to,
        references=references,
        reply_to=plus_address(policy.support_email, ticket.reference),
    )
    await enqueue(session, topic=EMAIL_TOPIC, payload=mail.payload(), clock=clock)
    return message_id


async def queue_ticket_acknowledgement(
    session: AsyncSession, *, clock: Clock, policy: SupportPolicy, ticket: SupportTicket
) -> str | None:
    """Tell the customer by mail that their request has a ticket number (automatic mail)."""
    to = await customer_address(session, ticket)
    if to is None:
        return None
    in_reply_to, references = await _thread(session, ticket.id)
    user = await _owner(session, ticket)
    message_id = new_message_id(f"ack-{ticket.id}", ticket.reference, policy)
    ack = _ACK.get(_locale(user)).format(reference=ticket.reference)
    mail = OutgoingEmail(
        to=to,
        subject=ticket_subject(ticket.subject, ticket.reference),
        text=_body(ack, ticket.reference, user),
        message_id=message_id,
        kind="ticket_acknowledgement",
        in_reply_to=in_reply_to,
        references=references,
        reply_to=plus_address(policy.support_email, ticket.reference),
        auto_submitted=True,
    )
    await enqueue(session, topic=EMAIL_TOPIC, payload=mail.payload(), clock=clock)
    return message_id


async def queue_plain_mail(
    session: AsyncSession,
    *,
    clock: Clock,
    policy: SupportPolicy,
    to: str,
    subject: str,
    text: str,
    kind: str,
    user: User | None,
    message_key: str,
) -> None:
    """A one-off mail (e.g. an address-verification code), with the anti-phishing prefix."""
    locale = _locale(user)
    code = user.anti_phishing_code if user is not None else None
    mail = OutgoingEmail(
        to=to,
        subject=subject,
        text=with_anti_phishing(text, code, locale),
        message_id=f"{message_key}@{policy.mail_domain}",
        kind=kind,
        auto_submitted=True,
    )
    await enqueue(session, topic=EMAIL_TOPIC, payload=mail.payload(), clock=clock)
