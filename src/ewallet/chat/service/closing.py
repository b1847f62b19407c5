"""How a chat ends: its ticket, its transcript, and the ticket resolved when an agent helped.

Every chat that closes leaves its transcript on a ticket: the ticket opened when no agent
was online, or one opened at the end (channel ``chat``), so agents find every conversation
with the customer's other tickets. A chat an agent took part in was answered there: its
ticket is resolved, so it does not wait in the agents' queue for help already given. A chat
no agent saw keeps its ticket open (``new``) for one. All of it runs in the caller's unit
of work, through support's own ticket services.
"""

from __future__ import annotations

import contextlib
from typing import Final

from ewallet.audit.service import Actor, record_event
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.service.lines import chat_locale, say
from ewallet.chat.views import transcript
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.i18n import ZH_CN
from ewallet.models.support import AuthorType, TicketChannel, TicketStatus
from ewallet.models.support_chat import ChatCloser, ChatSender, ChatStatus, SupportChat
from ewallet.services import Services
from ewallet.support.errors import AgentNotAvailableError
from ewallet.support.service import lifecycle, tickets

SUBJECT_CHARS: Final = 60


async def ticket_for(
    services: Services, uow: UnitOfWork, chat: SupportChat, *, acknowledge: bool
) -> str:
    """The chat's ticket (opened now if it has none); returns its reference (TKT-...)."""
    if chat.ticket_id is None:
        lines = await repo.messages(uow.session, [chat.id])
        asked = [m.body for m in lines if m.sender == ChatSender.CUSTOMER]
        first = asked[0] if asked else bot.says("welcome", chat_locale(chat))
        subject = ("在线客服：" if chat_locale(chat) == ZH_CN else "Online chat: ") + first
        chat.ticket_id = await tickets.open_ticket(
            services,
            uow,
            user_id=chat.user_id,
            email=None,
            subject=subject[:SUBJECT_CHARS],
            body="\n".join(asked) or first,
            channel=TicketChannel.CHAT,
            author_type=AuthorType.CUSTOMER,
            author_id=chat.user_id,
            acknowledge=acknowledge,
        )
        await uow.session.flush()
    ticket = await tickets.find_ticket(uow, chat.ticket_id)
    assert ticket is not None  # just opened, or kept by the foreign key
    return ticket.reference


async def close_chat(
    services: Services, uow: UnitOfWork, chat: SupportChat, *, by: ChatCloser
) -> None:
    """Close the chat and save its whole transcript on its ticket as one message.

    A chat only the bot took part in, ended by the customer, opens no ticket: there is
    nothing for an agent to follow up, and a ticket per bot conversation would bury the
    agents' queue. Its lines stay in the chat history.
    """
    now = services.clock.now()
    if chat.ticket_id is None and chat.agent_id is None and chat.status == ChatStatus.BOT:
        body = bot.says("kept_in_history", chat_locale(chat))
        await say(uow, chat, now=now, sender=ChatSender.SYSTEM, body=body)
        chat.status, chat.closed_at, chat.closed_by = ChatStatus.CLOSED, now, by
        await uow.session.flush()
        return
    reference = await ticket_for(services, uow, chat, acknowledge=False)
    lines = await repo.messages(uow.session, [chat.id])
    assert chat.ticket_id is not None
    ticket = await tickets.find_ticket(uow, chat.ticket_id)
    assert ticket is not None
    await tickets.add_message(
        services,
        uow,
        ticket_id=chat.ticket_id,
        author_type=AuthorType.SYSTEM,
        author_id=None,
        body=transcript(lines, locale=chat_locale(chat)),
        # A ticket staff already closed takes only internal notes: the transcript still lands.
        internal=ticket.status == TicketStatus.CLOSED,
        send_email=False,
    )
    await say(
        uow,
        chat,
        now=now,
        sender=ChatSender.SYSTEM,
        body=bot.says("transcript", chat_locale(chat), reference=reference),
    )
    chat.status = ChatStatus.CLOSED
    chat.closed_at = now
    chat.closed_by = by
    await uow.session.flush()


async def close_for_no_agent(services: Services, uow: UnitOfWork, chat: SupportChat) -> None:
    """No agent will answer: the chat becomes a ticket (the customer hears its reference)."""
    reference = await ticket_for(services, uow, chat, acknowledge=True)
    await say(
        uow,
        chat,
        now=services.clock.now(),
        sender=ChatSender.SYSTEM,
        body=bot.says("no_agent", chat_locale(chat), reference=reference),
    )
    await close_chat(services, uow, chat, by=ChatCloser.SYSTEM)


async def resolve_helped_ticket(
    services: Services, uow: UnitOfWork, chat: SupportChat, *, actor: Actor
) -> None:
    """A closed chat an agent took part in: its ticket becomes ``resolved``, audit-logged.

    Resolved, not closed: the customer may still rate it, and a reply from them reopens it
    (the support module's rule). A ticket staff already resolved or closed is left as it is.
    The change goes through :func:`ewallet.support.service.lifecycle.change_status`, which
    also hands the agent's freed place to the next waiting ticket.

    The agent answered in the chat, so the ticket counts that as its first response (from
    when the agent took the chat: no false first-response breach in the queue) and is
    assigned to that agent, whoever the queue had given it to.
    """
    if chat.agent_id is None or chat.ticket_id is None:
        return
    ticket = await tickets.locked_ticket(uow, chat.ticket_id)
    if not lifecycle.may_become(ticket, TicketStatus.RESOLVED):
        return
    if ticket.first_response_at is None:
        ticket.first_response_at = chat.assigned_at or services.clock.now()
    if ticket.assignee_id != chat.agent_id:
        with contextlib.suppress(AgentNotAvailableError):  # disabled meanwhile: leave it
            await lifecycle.assign_to(services, uow, ticket_id=ticket.id, staff_id=chat.agent_id)
    await lifecycle.change_status(services, uow, ticket_id=ticket.id, status=TicketStatus.RESOLVED)
    await record_event(
        await uow.connection(),
        clock=services.clock,
        actor=actor,
        action="support.ticket.updated",
        subject_type="support_ticket",
        subject_id=ticket.id,
        details={"status": TicketStatus.RESOLVED.value, "chat_id": chat.id},
    )
