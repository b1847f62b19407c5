"""How a chat ends: its ticket, its transcript, and the ticket resolved when an agent helped.

Every chat that closes leaves its transcript on a ticket: the ticket opened when no agent
was online, or one opened at the end (channel ``chat``), so agents find every conversation
with the customer's other tickets. A chat an agent took part in was answered there: its
ticket is resolved, so it does not wait in the agents' queue for help already given. A chat
no agent saw keeps its ticket open (``new``) for one. All of it runs in the caller's unit
of work, through the support module's own ticket services.
"""

from __future__ import annotations

import contextlib
from typing import Literal

from ewallet.audit.service import Actor, record_event
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.common import chat_locale, say
from ewallet.chat.views import transcript
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.i18n import ZH_CN
from ewallet.models.support import SupportTicket
from ewallet.models.support_chat import SupportChat
from ewallet.support.errors import AgentNotAvailableError
from ewallet.support.lifecycle import TRANSITIONS, assign_to, change_status
from ewallet.support.policy import environment_policy
from ewallet.support.tickets import add_message, locked_ticket, open_ticket

SUBJECT_CHARS = 60
ClosedBy = Literal["customer", "agent", "system"]


async def ticket_for(uow: UnitOfWork, chat: SupportChat, *, clock: Clock, acknowledge: bool) -> str:
    """The chat's ticket (opened now if it has none); returns its reference (TKT-...)."""
    session = uow.session
    if chat.ticket_id is None:
        lines = await repo.messages(session, [chat.id])
        asked = [m.body for m in lines if m.sender == "customer"]
        first = asked[0] if asked else bot.says("welcome", chat_locale(chat))
        subject = ("在线客服：" if chat_locale(chat) == ZH_CN else "Online chat: ") + first
        chat.ticket_id = await open_ticket(
            uow,
            clock=clock,
            user_id=chat.user_id,
            email=None,
            subject=subject[:SUBJECT_CHARS],
            body="\n".join(asked) or first,
            channel="chat",
            author_type="customer",
            author_id=chat.user_id,
            acknowledge=acknowledge,
        )
        await session.flush()
    ticket = await session.get(SupportTicket, chat.ticket_id)
    assert ticket is not None  # just opened, or kept by the foreign key
    return ticket.reference


async def close_chat(uow: UnitOfWork, chat: SupportChat, *, clock: Clock, by: ClosedBy) -> None:
    """Close the chat and save its whole transcript on its ticket as one message.

    A chat only the bot took part in, ended by the customer, opens no ticket: there is
    nothing for an agent to follow up, and a ticket per bot conversation would bury the
    agents' queue. Its lines stay in the chat history.
    """
    now = clock.now()
    if chat.ticket_id is None and chat.agent_id is None and chat.status == "bot":
        body = bot.says("kept_in_history", chat_locale(chat))
        await say(uow, chat, now=now, sender="system", body=body)
        chat.status, chat.closed_at, chat.closed_by = "closed", now, by
        await uow.session.flush()
        return
    reference = await ticket_for(uow, chat, clock=clock, acknowledge=False)
    lines = await repo.messages(uow.session, [chat.id])
    assert chat.ticket_id is not None
    ticket = await uow.session.get(SupportTicket, chat.ticket_id)
    assert ticket is not None
    await add_message(
        uow,
        clock=clock,
        ticket_id=chat.ticket_id,
        author_type="system",
        author_id=None,
        body=transcript(lines, locale=chat_locale(chat)),
        # A ticket staff already closed takes only internal notes: the transcript still lands.
        internal=ticket.status == "closed",
        send_email=False,
    )
    await say(
        uow,
        chat,
        now=now,
        sender="system",
        body=bot.says("transcript", chat_locale(chat), reference=reference),
    )
    chat.status = "closed"
    chat.closed_at = now
    chat.closed_by = by
    await uow.session.flush()


async def close_for_no_agent(uow: UnitOfWork, chat: SupportChat, *, clock: Clock) -> None:
    """No agent will answer: the chat becomes a ticket (the customer hears its reference)."""
    reference = await ticket_for(uow, chat, clock=clock, acknowledge=True)
    await say(
        uow,
        chat,
        now=clock.now(),
        sender="system",
        body=bot.says("no_agent", chat_locale(chat), reference=reference),
    )
    await close_chat(uow, chat, clock=clock, by="system")


async def resolve_helped_ticket(
    uow: UnitOfWork, chat: SupportChat, *, clock: Clock, actor: Actor
) -> None:
    """A closed chat an agent took part in: its ticket becomes ``resolved``, audit-logged.

    Resolved, not closed: the customer may still rate it, and a reply from them reopens it
    (the support module's rule). A ticket staff already resolved or closed is left as it is.
    The change goes through :func:`ewallet.support.lifecycle.change_status`, which also hands
    the agent's freed place to the next waiting ticket.

    The agent answered in the chat, so the ticket counts that as its first response (from
    when the agent took the chat: no false first-response breach in the queue) and is
    assigned to that agent, whoever the queue had given it to.
    """
    if chat.agent_id is None or chat.ticket_id is None:
        return
    ticket = await locked_ticket(uow, chat.ticket_id)
    if "resolved" not in TRANSITIONS.get(ticket.status, frozenset()):
        return
    # The chat has no settings at hand; open_ticket and add_message use the same policy.
    policy = environment_policy()
    if ticket.first_response_at is None:
        ticket.first_response_at = chat.assigned_at or clock.now()
    if ticket.assignee_id != chat.agent_id:
        with contextlib.suppress(AgentNotAvailableError):  # disabled meanwhile: leave it
            await assign_to(
                uow, clock=clock, policy=policy, ticket_id=ticket.id, staff_id=chat.agent_id
            )
    await change_status(uow, clock=clock, policy=policy, ticket_id=ticket.id, status="resolved")
    await record_event(
        await uow.connection(),
        clock=clock,
        actor=actor,
        action="support.ticket.updated",
        subject_type="support_ticket",
        subject_id=ticket.id,
        details={"status": "resolved", "chat_id": chat.id},
    )
