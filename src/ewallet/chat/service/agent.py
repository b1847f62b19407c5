"""The agent's side of the chat: the queue, taking a chat, answering, handing over, ending,
reading, stepping away and leaving.

The staff member acting is ``actor`` (``Actor("staff", staff id)``). Taking, handing over,
ending and reading a chat are audit-logged in the same unit as the action; an agent acts
only on chats they hold (another agent's chat is ``not_found`` to them). When no agent is
left online -- the last one disconnected or stepped away -- nobody will take the chats
still waiting, so each becomes a ticket, as a hand-over does with nobody online.
"""

from __future__ import annotations

from typing import Final

from ewallet.audit.service import Actor, record_event
from ewallet.chat import bot
from ewallet.chat import repository as repo
from ewallet.chat.bus import PRESENCE_TOPIC, QUEUE_TOPIC, agent_topic
from ewallet.chat.errors import ChatClosedError, ChatNotWaitingError
from ewallet.chat.service.closing import close_chat, close_for_no_agent, resolve_helped_ticket
from ewallet.chat.service.lines import chat_locale, checked_text, say, topics_of, with_lines
from ewallet.chat.views import (
    AgentView,
    ChatView,
    Desk,
    MessageView,
    Outcome,
    message_view,
    view,
)
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import NotFoundError
from ewallet.models.support_chat import ChatCloser, ChatSender, ChatStatus, SupportChat
from ewallet.services import Services
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service.sessions import issue_tokens
from ewallet.support.errors import AgentNotAvailableError
from ewallet.support.presence.service import (
    agent_online_in,
    agents_in,
    agents_online_in,
    leave_in,
    set_away_in,
)

# Waiting chats turned into tickets at once when the last agent leaves.
MAX_STRANDED: Final = 500


def _staff_id(actor: Actor) -> str:
    if actor.id is None:
        raise ValueError("an agent's action needs the staff member's id")
    return actor.id


async def _audit(
    services: Services,
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    chat: SupportChat,
    **more: str | None,
) -> None:
    await record_event(
        await uow.connection(),
        clock=services.clock,
        actor=actor,
        action=action,
        subject_type="user",
        subject_id=chat.user_id,
        details={"chat_id": chat.id, **more},
    )


def socket_token(services: Services, staff: StaffPrincipal) -> str:
    """A staff access token of the console session ``staff`` signed in with, for the chat
    socket's ``auth`` frame (the console's pages hold a cookie, not a token).

    No new session: the token names the cookie's own session and never outlives it, so
    signing out of the console ends the desk's socket too (the socket checks the session
    like any staff API call). It lives ``access_token_minutes``; a script that reconnects
    asks for a fresh one.
    """
    now = services.clock.now()
    return issue_tokens(
        services.security,
        settings=services.settings,
        now=now,
        staff_id=staff.staff_id,
        session_id=staff.session_id,
        session_expires_at=staff.session_expires_at,
        must_change_password=staff.must_change_password,
    ).access_token


async def _waiting_in(uow: UnitOfWork, *, limit: int) -> list[ChatView]:
    session = uow.session
    chats = await repo.waiting_chats(session, limit=limit)
    return [
        view(chat, position=n, preview=await repo.last_customer_message(session, chat.id))
        for n, chat in enumerate(chats, start=1)
    ]


async def waiting(services: Services, *, limit: int = 100) -> list[ChatView]:
    """The queue, first in line first, each with its position and last customer line."""

    async def work(uow: UnitOfWork) -> list[ChatView]:
        return await _waiting_in(uow, limit=limit)

    return await run_unit(services.engine, work, read_only=True)


async def desk(services: Services, staff_id: str, *, limit: int = 100) -> Desk:
    """The chat desk of ``staff_id`` at a glance (one read): the queue with positions, the
    chats they hold, and the agents connected (online or away)."""

    async def work(uow: UnitOfWork) -> Desk:
        mine = await repo.chats_of_agent(uow.session, staff_id)
        agents = await agents_in(services, uow)
        return Desk(
            waiting=await _waiting_in(uow, limit=limit),
            mine=[view(chat) for chat in mine],
            agents=agents,
            away=any(agent.away for agent in agents if agent.staff_id == staff_id),
        )

    return await run_unit(services.engine, work, read_only=True)


async def staff_chat(
    services: Services, actor: Actor, *, chat_id: str
) -> tuple[ChatView, list[MessageView]]:
    """Any chat with its lines, for staff; refusal: ``not_found``; the read is audit-logged."""

    async def work(uow: UnitOfWork) -> tuple[ChatView, list[MessageView]]:
        chat = await repo.chat(uow.session, chat_id)
        if chat is None:
            raise NotFoundError("no such chat")
        found = await with_lines(uow, chat, 0)
        await _audit(services, uow, actor, "support.chat_viewed", chat)
        return found

    return await run_unit(services.engine, work)


async def take(services: Services, actor: Actor, *, chat_id: str) -> Outcome:
    """An agent takes a waiting chat; audited.

    Refusals, in order: unknown chat (``not_found``), a chat not waiting -- taken by
    another agent (two racing for one: the second), or ended (``chat_not_waiting``).
    """
    staff_id = _staff_id(actor)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await repo.locked_chat(uow.session, chat_id)
        if chat is None:
            raise NotFoundError("no such chat")
        if chat.status != ChatStatus.QUEUED:
            raise ChatNotWaitingError("this chat is not waiting for an agent")
        now = services.clock.now()
        chat.status = ChatStatus.ACTIVE
        chat.agent_id = staff_id
        # A chat handed back to the queue keeps the moment an agent first took it.
        chat.assigned_at = chat.assigned_at or now
        joined = bot.says("agent_joined", chat_locale(chat))
        await say(uow, chat, now=now, sender=ChatSender.SYSTEM, body=joined)
        await _audit(services, uow, actor, "support.chat_taken", chat)
        return Outcome(view(chat), topics_of(chat, QUEUE_TOPIC))

    return await run_unit(services.engine, work)


async def _agent_chat(uow: UnitOfWork, *, staff_id: str, chat_id: str) -> SupportChat:
    chat = await repo.locked_chat(uow.session, chat_id)
    if chat is None or chat.agent_id != staff_id:
        raise NotFoundError("no such chat among yours")
    if chat.status == ChatStatus.CLOSED:
        raise ChatClosedError("this chat has ended")
    return chat


async def agent_says(services: Services, actor: Actor, *, chat_id: str, text: str) -> Outcome:
    """A line to the customer. Refusals, in order: an empty or overlong line
    (``validation_error``), not one of the agent's chats (``not_found``), ended
    (``chat_closed``)."""
    text = checked_text(text)
    staff_id = _staff_id(actor)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        now = services.clock.now()
        await say(uow, chat, now=now, sender=ChatSender.AGENT, sender_id=staff_id, body=text)
        return Outcome(view(chat), topics_of(chat))

    return await run_unit(services.engine, work)


async def hand_over(
    services: Services, actor: Actor, *, chat_id: str, to_staff_id: str | None = None
) -> Outcome:
    """The agent passes a chat they hold to another agent online (``to_staff_id``), or back
    to the queue (``None``); the customer is told in the chat; audited.

    Back in the queue the chat keeps the moment it first queued, so it is first in line
    again: the customer has waited longest. If no agent is online then (the agent handing
    it back is away too), it becomes a ticket as any waiting chat does.

    Refusals, in order: not one of the agent's chats (``not_found``), ended
    (``chat_closed``), ``to_staff_id`` the agent themself, or not an active agent connected
    and online (``agent_not_available``).
    """
    staff_id = _staff_id(actor)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        if to_staff_id is not None and (
            to_staff_id == staff_id or not await agent_online_in(services, uow, to_staff_id)
        ):
            raise AgentNotAvailableError("that agent is not online to take the chat")
        now = services.clock.now()
        locale = chat_locale(chat)
        extra = {agent_topic(staff_id)}
        if to_staff_id is not None:
            chat.agent_id = to_staff_id
            await say(
                uow,
                chat,
                now=now,
                sender=ChatSender.SYSTEM,
                body=bot.says("handed_to_agent", locale),
            )
        else:
            chat.status = ChatStatus.QUEUED
            chat.agent_id = None
            chat.queued_at = chat.queued_at or now
            await say(
                uow,
                chat,
                now=now,
                sender=ChatSender.SYSTEM,
                body=bot.says("handed_to_queue", locale),
            )
            extra.add(QUEUE_TOPIC)
        await _audit(
            services,
            uow,
            actor,
            "support.chat_handed_over",
            chat,
            to_staff_id=to_staff_id,
        )
        if chat.status == ChatStatus.QUEUED and not await agents_online_in(services, uow):
            await close_for_no_agent(services, uow, chat)
        position = await repo.queue_position(uow.session, chat)
        return Outcome(view(chat, position=position), topics_of(chat, *extra))

    return await run_unit(services.engine, work)


async def agent_ends(services: Services, actor: Actor, *, chat_id: str) -> Outcome:
    """The agent ends a chat they answered: transcript on the ticket, the ticket resolved.

    Refusals: not one of the agent's chats (``not_found``), ended (``chat_closed``); audited.
    """
    staff_id = _staff_id(actor)

    async def work(uow: UnitOfWork) -> Outcome:
        chat = await _agent_chat(uow, staff_id=staff_id, chat_id=chat_id)
        ended = bot.says("ended_agent", chat_locale(chat))
        await say(uow, chat, now=services.clock.now(), sender=ChatSender.SYSTEM, body=ended)
        await close_chat(services, uow, chat, by=ChatCloser.AGENT)
        await resolve_helped_ticket(services, uow, chat, actor=actor)
        await _audit(services, uow, actor, "support.chat_ended", chat, ticket_id=chat.ticket_id)
        return Outcome(view(chat), topics_of(chat))

    return await run_unit(services.engine, work)


async def _strand_waiting(services: Services, uow: UnitOfWork) -> set[str]:
    """No agent online: each waiting chat becomes a ticket (the customer is told its
    reference) and closes. The topics to publish; none while an agent is online."""
    if await agents_online_in(services, uow):
        return set()
    topics: set[str] = set()
    for queued in await repo.waiting_chats(uow.session, limit=MAX_STRANDED):
        chat = await repo.locked_chat(uow.session, queued.id)
        if chat is None or chat.status != ChatStatus.QUEUED:
            continue  # taken or ended meanwhile
        await close_for_no_agent(services, uow, chat)
        topics |= topics_of(chat, QUEUE_TOPIC)
    return topics


async def agent_disconnected(services: Services, *, connection_id: str) -> frozenset[str]:
    """The agent's socket closed. If no agent is left online (connected and not away),
    nobody will take the chats still waiting: each becomes a ticket. Returns the topics to
    publish (the caller adds ``presence``: someone left)."""

    async def work(uow: UnitOfWork) -> frozenset[str]:
        await leave_in(uow, connection_id=connection_id)
        return frozenset(await _strand_waiting(services, uow))

    return await run_unit(services.engine, work)


async def set_away(services: Services, staff_id: str, *, away: bool) -> frozenset[str]:
    """The agent steps away (no new chats offered, their own chats go on) or comes back,
    on all their sockets. Stepping away as the last agent online turns the waiting chats
    into tickets, as leaving does. Returns the topics to publish."""

    async def work(uow: UnitOfWork) -> frozenset[str]:
        await set_away_in(uow, staff_id, away=away)
        stranded = await _strand_waiting(services, uow) if away else set()
        return frozenset({PRESENCE_TOPIC, QUEUE_TOPIC, *stranded})

    return await run_unit(services.engine, work)


async def agent_view(
    services: Services, staff_id: str, *, known: list[str], after_id: int
) -> AgentView:
    """The agent's active chats (and ``known`` ones, to see them end), lines after
    ``after_id``, and the ``known`` chats that are no longer theirs (handed over)."""

    async def work(uow: UnitOfWork) -> AgentView:
        chats = await repo.chats_of_agent(uow.session, staff_id, also=known)
        mine = [c for c in chats if c.agent_id == staff_id]
        gone = [c for c in chats if c.agent_id != staff_id and c.id in known]
        lines = await repo.messages(uow.session, [c.id for c in mine], after_id=after_id)
        return AgentView(
            chats=[view(c) for c in mine],
            lines=[message_view(m) for m in lines],
            released=[view(c) for c in gone],
        )

    return await run_unit(services.engine, work, read_only=True)


async def chat_lines(services: Services, *, chat_id: str) -> list[MessageView]:
    """Every line of a chat (an agent's socket shows the history of a chat it was given)."""

    async def work(uow: UnitOfWork) -> list[MessageView]:
        return [message_view(m) for m in await repo.messages(uow.session, [chat_id])]

    return await run_unit(services.engine, work, read_only=True)
