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
from typing import Final

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.support import (
    AuthorType,
    InboundDisposition,
    SupportAttachment,
    SupportInboundMail,
    SupportTicket,
    TicketChannel,
    TicketStatus,
)
from ewallet.services import Services
from ewallet.support import repository as tickets_repo
from ewallet.support.inbound import repository as repo
from ewallet.support.inbound.parsing import ParsedMail, parse_mail
from ewallet.support.mail import service as mail_service
from ewallet.support.policy import SupportPolicy
from ewallet.support.service import tickets
from ewallet.support.views import InboundResult

TOKEN: Final = re.compile(r"\bTKT-([23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8})\b", re.IGNORECASE)
EMPTY_BODY: Final = "(empty message)"


async def _ticket_by_thread(uow: UnitOfWork, mail: ParsedMail) -> SupportTicket | None:
    ids = mail.thread_ids
    if not ids:
        return None
    ticket_id = await repo.ticket_of_message_ids(uow.session, ids)
    if ticket_id is None:
        # Our acknowledgements are not stored as messages; their id names the ticket.
        for value in ids:
            if value.startswith("ack-tkt_"):
                return await tickets_repo.ticket(uow.session, value[4:].split(".", 1)[0])
        return None
    return await tickets_repo.ticket(uow.session, ticket_id)


async def _ticket_by_token(uow: UnitOfWork, mail: ParsedMail) -> SupportTicket | None:
    for text in [mail.subject, *mail.recipients]:
        match = TOKEN.search(text)
        if match is not None:
            return await tickets_repo.ticket_by_reference(uow.session, "TKT-" + match[1].upper())
    return None


async def _from_customer(uow: UnitOfWork, ticket: SupportTicket, sender: str) -> bool:
    if ticket.email == sender:
        return True
    return ticket.user_id is not None and (
        await mail_service.verified_user_for(uow, sender) == ticket.user_id
    )


async def find_ticket(uow: UnitOfWork, mail: ParsedMail) -> SupportTicket | None:
    """The ticket this mail continues: by thread, else by token from the ticket's customer."""
    ticket = await _ticket_by_thread(uow, mail)
    if ticket is not None:
        return ticket
    ticket = await _ticket_by_token(uow, mail)
    if ticket is not None and mail.sender and await _from_customer(uow, ticket, mail.sender):
        return ticket
    return None


async def _record(
    services: Services, uow: UnitOfWork, mail: ParsedMail, result: InboundResult
) -> InboundResult:
    record = SupportInboundMail(
        email_message_id=(mail.message_id or "")[:255] or None,
        sender=(mail.sender or "")[:254],
        subject=mail.subject[:200],
        disposition=result.disposition,
        ticket_id=result.ticket_id,
        detail=result.detail,
        received_at=services.clock.now(),
    )
    await repo.add_inbound(uow.session, record)
    return result


async def _store_attachments(
    services: Services, uow: UnitOfWork, mail: ParsedMail, *, ticket_id: str, message_id: str
) -> list[str]:
    """Keep allowed attachments; note refused ones (returned as sentences for a ticket note)."""
    policy = SupportPolicy.of(services)
    refused: list[str] = []
    rows: list[SupportAttachment] = []
    for attachment in mail.attachments:
        reason: str | None = None
        if attachment.content_type.lower() not in policy.attachment_types:
            reason = f"type {attachment.content_type} is not accepted"
        elif len(attachment.content) > policy.attachment_max_bytes:
            reason = f"{len(attachment.content)} bytes is over {policy.attachment_max_bytes}"
        rows.append(
            SupportAttachment(
                id=new_id("tatt"),
                ticket_id=ticket_id,
                message_id=message_id,
                filename=attachment.filename,
                content_type=attachment.content_type[:127],
                size=len(attachment.content),
                content=None if reason else attachment.content,
                rejected_reason=reason,
                created_at=services.clock.now(),
            )
        )
        if reason:
            refused.append(f"{attachment.filename}: {reason}")
    await tickets_repo.add_attachments(uow.session, rows)
    return refused


async def _note(services: Services, uow: UnitOfWork, *, ticket_id: str, text: str) -> None:
    await tickets.add_message(
        services,
        uow,
        ticket_id=ticket_id,
        author_type=AuthorType.SYSTEM,
        author_id=None,
        body=text,
        internal=True,
    )


def _is_ours(address: str, policy: SupportPolicy) -> bool:
    """The support address itself or one of its plus-addresses (a forwarding loop)."""
    local, _, domain = address.partition("@")
    return (
        domain == policy.mail_domain
        and local.split("+", 1)[0] == (policy.support_email.partition("@")[0])
    )


async def _from_a_robot(services: Services, uow: UnitOfWork, mail: ParsedMail) -> InboundResult:
    """A bounce, an auto-reply or our own mail: noted on its ticket, recorded, never answered."""
    own = mail.sender is not None and _is_ours(mail.sender, SupportPolicy.of(services))
    kind = InboundDisposition.BOUNCE if mail.bounce else InboundDisposition.AUTO_REPLY
    ticket = await _ticket_by_thread(uow, mail)
    if ticket is not None and ticket.status != TicketStatus.CLOSED:
        what = (
            "a delivery failure report"
            if kind == InboundDisposition.BOUNCE
            else "an automatic reply"
        )
        await _note(
            services,
            uow,
            ticket_id=ticket.id,
            text=f"Mail system: {what} from {mail.sender or 'an unknown sender'} "
            f"({mail.subject}). Not answered.",
        )
    detail = "from our own address" if own and not (mail.bounce or mail.auto_reply) else None
    result = InboundResult(kind, ticket.id if ticket else None, detail)
    return await _record(services, uow, mail, result)


async def receive_mail(services: Services, uow: UnitOfWork, mail: ParsedMail) -> InboundResult:
    """Route one parsed mail inside the caller's unit of work; never answers a robot.

    In order: robots (bounces, auto-replies, our own address) are only recorded; a mail
    without a sender is ``rejected``; a mail taken before (a client's retry) is answered
    with its ticket and changes nothing; else it continues its ticket or opens one, keeps
    its allowed attachments and notes the refused ones and any reading problems.
    """
    own = mail.sender is not None and _is_ours(mail.sender, SupportPolicy.of(services))
    if mail.bounce or mail.auto_reply or own:
        return await _from_a_robot(services, uow, mail)
    if mail.sender is None:
        result = InboundResult(InboundDisposition.REJECTED, None, "no sender address to answer")
        return await _record(services, uow, mail, result)
    if mail.message_id is not None:
        duplicate = await repo.ticket_of_customer_mail(uow.session, mail.message_id)
        if duplicate is not None:
            return InboundResult(InboundDisposition.CONTINUED, duplicate, "already received")
    body = mail.text or EMPTY_BODY
    ticket = await find_ticket(uow, mail)
    if ticket is not None and ticket.status != TicketStatus.CLOSED:
        message_id = await tickets.add_message(
            services,
            uow,
            ticket_id=ticket.id,
            author_type=AuthorType.CUSTOMER,
            author_id=None,
            body=body,
            email_message_id=mail.message_id,
        )
        ticket_id, disposition = ticket.id, InboundDisposition.CONTINUED
    else:
        user_id = await mail_service.verified_user_for(uow, mail.sender)
        ticket_id = await tickets.open_ticket(
            services,
            uow,
            user_id=user_id,
            email=mail.sender,
            subject=mail.subject,
            body=body,
            channel=TicketChannel.EMAIL,
            author_id=user_id,
            email_message_id=mail.message_id,
        )
        message_id = await tickets_repo.first_message_id(uow.session, ticket_id)
        disposition = InboundDisposition.OPENED
    refused = await _store_attachments(
        services, uow, mail, ticket_id=ticket_id, message_id=message_id
    )
    notes = [f"Attachment not kept: {line}" for line in refused]
    if mail.problems:
        notes.append("Mail had problems, read with replacement: " + "; ".join(mail.problems[:5]))
    for text in notes:
        await _note(services, uow, ticket_id=ticket_id, text=text)
    result = InboundResult(disposition, ticket_id, "; ".join(notes) or None)
    return await _record(services, uow, mail, result)


async def receive(services: Services, raw: bytes, *, envelope_sender: str | None) -> InboundResult:
    """Parse one raw mail (defensively: never raises on a bad mail) and route it in one unit."""
    mail = parse_mail(raw, envelope_sender=envelope_sender)

    async def work(uow: UnitOfWork) -> InboundResult:
        return await receive_mail(services, uow, mail)

    return await run_unit(services.engine, work)
