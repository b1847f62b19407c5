"""What an incoming support mail does: open a ticket, continue one, or only get recorded.

Threading, in order: the Message-IDs it answers (``In-Reply-To``, ``References``) against
the ones stored on ticket messages (ours and the customer's); then the ticket token
``TKT-XXXXXXXX`` in the subject or in a plus-address recipient -- the token only counts when
the mail comes from the ticket's own customer, since anyone can type a token. A reply to a
closed ticket opens a new one.

Never answered, so no two robots mail each other forever: auto-replies (``Auto-Submitted``,
``X-Autoreply``, ``Precedence: bulk/auto_reply/list``), bounces (``MAILER-DAEMON``,
``multipart/report``, an empty envelope sender) and mail from our own address. Bounces and
auto-replies are recorded in ``support_inbound_mail`` and noted internally on their ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select

from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.ids import new_id
from ewallet.models.support import (
    SupportAttachment,
    SupportInboundMail,
    SupportTicket,
    SupportTicketMessage,
)
from ewallet.support import customer_email, tickets
from ewallet.support.mail_parsing import ParsedMail
from ewallet.support.policy import SupportPolicy

TOKEN: Final = re.compile(r"\bTKT-([23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8})\b", re.IGNORECASE)
EMPTY_BODY: Final = "(empty message)"


@dataclass(frozen=True, slots=True)
class InboundResult:
    disposition: str  # opened, continued, auto_reply, bounce, rejected
    ticket_id: str | None
    detail: str | None = None


async def _ticket_by_thread(uow: UnitOfWork, mail: ParsedMail) -> SupportTicket | None:
    ids = mail.thread_ids
    if not ids:
        return None
    row = (
        await uow.session.execute(
            select(SupportTicketMessage.ticket_id)
            .where(SupportTicketMessage.email_message_id.in_(ids))
            .order_by(SupportTicketMessage.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        # Our acknowledgements are not stored as messages; their id names the ticket.
        for value in ids:
            if value.startswith("ack-tkt_"):
                return await uow.session.get(SupportTicket, value[4:].split(".", 1)[0])
        return None
    return await uow.session.get(SupportTicket, row)


async def _ticket_by_token(uow: UnitOfWork, mail: ParsedMail) -> SupportTicket | None:
    for text in [mail.subject, *mail.recipients]:
        match = TOKEN.search(text)
        if match is None:
            continue
        reference = "TKT-" + match.group(1).upper()
        return (
            await uow.session.execute(
                select(SupportTicket).where(SupportTicket.reference == reference)
            )
        ).scalar_one_or_none()
    return None


async def _from_customer(uow: UnitOfWork, ticket: SupportTicket, sender: str) -> bool:
    if ticket.email == sender:
        return True
    return ticket.user_id is not None and (
        await customer_email.verified_user_for(uow, sender) == ticket.user_id
    )


async def find_ticket(uow: UnitOfWork, mail: ParsedMail) -> SupportTicket | None:
    ticket = await _ticket_by_thread(uow, mail)
    if ticket is not None:
        return ticket
    ticket = await _ticket_by_token(uow, mail)
    if ticket is not None and mail.sender and await _from_customer(uow, ticket, mail.sender):
        return ticket
    return None


async def _record(
    uow: UnitOfWork, *, clock: Clock, mail: ParsedMail, result: InboundResult
) -> InboundResult:
    uow.session.add(
        SupportInboundMail(
            email_message_id=(mail.message_id or "")[:255] or None,
            sender=(mail.sender or "")[:254],
            subject=mail.subject[:200],
            disposition=result.disposition,
            ticket_id=result.ticket_id,
            detail=result.detail,
            received_at=clock.now(),
        )
    )
    await uow.session.flush()
    return result


async def _store_attachments(
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: SupportPolicy,
    mail: ParsedMail,
    ticket_id: str,
    message_id: str,
) -> list[str]:
    """Keep allowed attachments; note refused ones (returned as sentences for a ticket note)."""
    refused: list[str] = []
    for attachment in mail.attachments:
        reason: str | None = None
        if attachment.content_type.lower() not in policy.attachment_types:
            reason = f"type {attachment.content_type} is not accepted"
        elif len(attachment.content) > policy.attachment_max_bytes:
            reason = f"{len(attachment.content)} bytes is over {policy.attachment_max_bytes}"
        uow.session.add(
            SupportAttachment(
                id=new_id("tatt"),
                ticket_id=ticket_id,
                message_id=message_id,
                filename=attachment.filename,
                content_type=attachment.content_type[:127],
                size=len(attachment.content),
                content=None if reason else attachment.content,
                rejected_reason=reason,
                created_at=clock.now(),
            )
        )
        if reason:
            refused.append(f"{attachment.filename}: {reason}")
    await uow.session.flush()
    return refused


async def _note(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy, ticket_id: str, text: str
) -> None:
    await tickets.add_message(
        uow,
        clock=clock,
        policy=policy,
        ticket_id=ticket_id,
        author_type="system",
        author_id=None,
        body=text,
        internal=True,
    )


async def _duplicate(uow: UnitOfWork, mail: ParsedMail) -> str | None:
    """A mail already taken (a client's retry after a lost ``250``): its ticket id."""
    if mail.message_id is None:
        return None
    return (
        await uow.session.execute(
            select(SupportTicketMessage.ticket_id).where(
                SupportTicketMessage.email_message_id == mail.message_id,
                SupportTicketMessage.author_type == "customer",
            )
        )
    ).scalar_one_or_none()


def _is_ours(address: str, policy: SupportPolicy) -> bool:
    """The support address itself or one of its plus-addresses (a forwarding loop)."""
    local, _, domain = address.partition("@")
    return (
        domain == policy.mail_domain
        and local.split("+", 1)[0] == (policy.support_email.partition("@")[0])
    )


async def receive_mail(
    uow: UnitOfWork, *, clock: Clock, policy: SupportPolicy, mail: ParsedMail
) -> InboundResult:
    """Route one parsed mail inside the caller's unit of work; never answers a robot."""
    own = mail.sender is not None and _is_ours(mail.sender, policy)
    if mail.bounce or mail.auto_reply or own:
        kind = "bounce" if mail.bounce else "auto_reply"
        ticket = await _ticket_by_thread(uow, mail)
        if ticket is not None and ticket.status != "closed":
            what = "a delivery failure report" if kind == "bounce" else "an automatic reply"
            await _note(
                uow,
                clock=clock,
                policy=policy,
                ticket_id=ticket.id,
                text=f"Mail system: {what} from {mail.sender or 'an unknown sender'} "
                f"({mail.subject}). Not answered.",
            )
        detail = "from our own address" if own and not (mail.bounce or mail.auto_reply) else None
        result = InboundResult(kind, ticket.id if ticket else None, detail)
        return await _record(uow, clock=clock, mail=mail, result=result)
    if mail.sender is None:
        result = InboundResult("rejected", None, "no sender address to answer")
        return await _record(uow, clock=clock, mail=mail, result=result)
    duplicate = await _duplicate(uow, mail)
    if duplicate is not None:
        return InboundResult("continued", duplicate, "already received")
    body = mail.text or EMPTY_BODY
    ticket = await find_ticket(uow, mail)
    if ticket is not None and ticket.status != "closed":
        message_id = await tickets.add_message(
            uow,
            clock=clock,
            policy=policy,
            ticket_id=ticket.id,
            author_type="customer",
            author_id=None,
            body=body,
            email_message_id=mail.message_id,
        )
        ticket_id, disposition = ticket.id, "continued"
    else:
        user_id = await customer_email.verified_user_for(uow, mail.sender)
        ticket_id = await tickets.open_ticket(
            uow,
            clock=clock,
            policy=policy,
            user_id=user_id,
            email=mail.sender,
            subject=mail.subject,
            body=body,
            channel="email",
            author_id=user_id,
            email_message_id=mail.message_id,
        )
        message_id = (
            await uow.session.execute(
                select(SupportTicketMessage.id).where(SupportTicketMessage.ticket_id == ticket_id)
            )
        ).scalar_one()
        disposition = "opened"
    refused = await _store_attachments(
        uow, clock=clock, policy=policy, mail=mail, ticket_id=ticket_id, message_id=message_id
    )
    notes = [f"Attachment not kept: {line}" for line in refused]
    if mail.problems:
        notes.append("Mail had problems, read with replacement: " + "; ".join(mail.problems[:5]))
    for text in notes:
        await _note(uow, clock=clock, policy=policy, ticket_id=ticket_id, text=text)
    result = InboundResult(disposition, ticket_id, "; ".join(notes) or None)
    return await _record(uow, clock=clock, mail=mail, result=result)
