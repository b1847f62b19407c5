"""The chat sockets: ``WS /v1/support/chat`` (customers) and ``WS /v1/staff/support/chat``.

The reader of each socket turns the client's frames into one call each to
:mod:`ewallet.chat.service` and publishes what changed on the bus after commit; the pusher
re-reads the chat from the database when a topic it follows is heard (or the heartbeat
timer runs out) and sends whatever the client has not seen yet: new lines, a new queue
position, a new state. Nothing is sent from memory, so the two sides of a chat may sit on
different API processes. The protocol is in docs/chat.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket

from ewallet.audit.service import Actor
from ewallet.chat.auth import (
    CLOSE_CONFLICT,
    CLOSE_DISABLED,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHORIZED,
    agent_from_token,
    customer_from_token,
)
from ewallet.chat.bus import (
    PRESENCE_TOPIC,
    QUEUE_TOPIC,
    ChatBus,
    Subscription,
    agent_topic,
    chat_topic,
)
from ewallet.chat.deps import app_chat_bus, running_bus
from ewallet.chat.errors import ChatClosedError
from ewallet.chat.schemas import chat_frame, error_frame, message_frame, presence_frame
from ewallet.chat.service import agent, customer
from ewallet.chat.sockets.connection import Socket, first_frame, run_both, serve_frames, text_of
from ewallet.chat.views import ChatView, Outcome
from ewallet.help.deps import app_help_search
from ewallet.http.deps import app_services
from ewallet.kit.errors import ForbiddenError, NotFoundError, UnauthorizedError
from ewallet.kit.i18n import negotiate_locale
from ewallet.models.support_chat import ChatStatus
from ewallet.services import Services
from ewallet.support.presence import service as presence


@asynccontextmanager
async def _bus(app: FastAPI) -> AsyncIterator[None]:
    async with running_bus(app, app_services(app)):
        yield


router = APIRouter(tags=["online chat"], lifespan=_bus)


@router.websocket("/v1/support/chat")
async def customer_chat(websocket: WebSocket) -> None:
    app = websocket.app
    services = app_services(app)
    settings = services.settings
    socket = Socket(websocket)
    await websocket.accept()
    if not settings.support_chat_enabled:
        await socket.close(CLOSE_DISABLED, "online chat is not offered")
        return
    first = await first_frame(socket, settings.support_chat_auth_timeout_seconds)
    if first is None:
        await socket.close(CLOSE_UNAUTHORIZED, "send {type: auth, token} first")
        return
    try:
        user = await customer_from_token(
            services.engine, security=services.security, clock=services.clock, token=first["token"]
        )
    except UnauthorizedError:
        await socket.close(CLOSE_UNAUTHORIZED, "invalid or expired token")
        return
    wanted = first.get("chat_id")
    locale = negotiate_locale(str(first.get("locale") or websocket.headers.get("accept-language")))
    try:
        opened = await customer.open_chat(
            services,
            user.user_id,
            locale=locale,
            chat_id=wanted if isinstance(wanted, str) else None,
        )
    except NotFoundError:
        await socket.close(CLOSE_NOT_FOUND, "no such chat")
        return
    except ChatClosedError:
        await socket.close(CLOSE_CONFLICT, "this chat has ended")
        return
    bus = app_chat_bus(app)
    await bus.publish(opened.topics)
    chat_id = opened.chat.id
    search = app_help_search(app)

    async def handle(frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        outcome: Outcome
        if kind == "message":
            outcome = await customer.customer_says(
                services, user.user_id, search=search, chat_id=chat_id, text=text_of(frame)
            )
        elif kind == "handover":
            outcome = await customer.ask_for_agent(services, user.user_id, chat_id=chat_id)
        elif kind == "feedback":
            helpful = frame.get("helpful") is True
            outcome = await customer.customer_feedback(
                services, user.user_id, chat_id=chat_id, helpful=helpful
            )
        elif kind == "end":
            outcome = await customer.customer_ends(services, user.user_id, chat_id=chat_id)
        elif kind == "ping":
            await socket.send({"type": "pong"})
            return
        else:
            await socket.send(error_frame("validation_error", f"unknown frame type {kind!r}"))
            return
        await bus.publish(outcome.topics)

    subscription = bus.subscribe([chat_topic(chat_id), QUEUE_TOPIC])
    try:
        await run_both(
            serve_frames(socket, handle),
            _push_customer(services, socket, subscription, user_id=user.user_id, chat_id=chat_id),
        )
    finally:
        subscription.close()


async def _push_customer(
    services: Services, socket: Socket, subscription: Subscription, *, user_id: str, chat_id: str
) -> None:
    seen = 0
    last_state: tuple[Any, ...] | None = None
    while True:
        chat, lines = await customer.customer_chat(
            services, user_id, chat_id=chat_id, after_id=seen
        )
        state = (chat.status, chat.queue_position, chat.ticket_id)
        if last_state is None:
            await socket.send(chat_frame("ready", chat, for_staff=False))
        for line in lines:
            await socket.send(message_frame(line, for_staff=False))
            seen = max(seen, line.id)
        if last_state is not None and state != last_state:
            await socket.send(chat_frame("state", chat, for_staff=False))
        last_state = state
        if chat.status == ChatStatus.CLOSED:
            await socket.send(chat_frame("ended", chat, for_staff=False))
            await socket.close(1000, "chat ended")
            return
        await subscription.wait(services.settings.support_chat_heartbeat_seconds)


@router.websocket("/v1/staff/support/chat")
async def agent_chat(websocket: WebSocket) -> None:
    app = websocket.app
    services = app_services(app)
    socket = Socket(websocket)
    await websocket.accept()
    first = await first_frame(socket, services.settings.support_chat_auth_timeout_seconds)
    if first is None:
        await socket.close(CLOSE_UNAUTHORIZED, "send {type: auth, token} first")
        return
    ip = websocket.client.host if websocket.client is not None else None
    try:
        principal = await agent_from_token(services, token=first["token"], ip=ip)
    except UnauthorizedError:
        await socket.close(CLOSE_UNAUTHORIZED, "invalid or expired staff token")
        return
    except ForbiddenError:
        await socket.close(CLOSE_FORBIDDEN, "your staff role does not answer chats")
        return
    bus = app_chat_bus(app)
    staff_id, actor = principal.staff_id, principal.actor()
    connection_id = await presence.agent_connected(services, staff_id)
    await bus.publish([PRESENCE_TOPIC])

    async def handle(frame: dict[str, Any]) -> None:
        await _agent_frame(
            services,
            socket,
            bus,
            frame,
            actor=actor,
            staff_id=staff_id,
            connection_id=connection_id,
        )

    subscription = bus.subscribe([QUEUE_TOPIC, PRESENCE_TOPIC, agent_topic(staff_id)])
    try:
        await run_both(
            serve_frames(socket, handle),
            _push_agent(
                services, socket, subscription, staff_id=staff_id, connection_id=connection_id
            ),
        )
    finally:
        subscription.close()
        stranded = await agent.agent_disconnected(services, connection_id=connection_id)
        await bus.publish({PRESENCE_TOPIC, *stranded})


async def _agent_frame(
    services: Services,
    socket: Socket,
    bus: ChatBus,
    frame: dict[str, Any],
    *,
    actor: Actor,
    staff_id: str,
    connection_id: str,
) -> None:
    """One frame from an agent's socket: a ping, presence (online or away), or take /
    message / handover / end on a chat."""
    kind = frame.get("type")
    chat_ref = frame.get("chat_id")
    if kind == "ping":
        await presence.agent_heartbeat(services, staff_id, connection_id=connection_id)
        await socket.send({"type": "pong"})
        return
    if kind == "presence":
        status = frame.get("status")
        if status not in ("online", "away"):
            await socket.send(error_frame("validation_error", "status is online or away"))
            return
        await bus.publish(await agent.set_away(services, staff_id, away=status == "away"))
        return
    if not isinstance(chat_ref, str):
        await socket.send(error_frame("validation_error", "chat_id is required"))
        return
    outcome: Outcome
    if kind == "take":
        outcome = await agent.take(services, actor, chat_id=chat_ref)
    elif kind == "message":
        outcome = await agent.agent_says(services, actor, chat_id=chat_ref, text=text_of(frame))
    elif kind == "handover":
        target = frame.get("to_staff_id")
        if target is not None and not isinstance(target, str):
            await socket.send(error_frame("validation_error", "to_staff_id is a staff id"))
            return
        outcome = await agent.hand_over(services, actor, chat_id=chat_ref, to_staff_id=target)
    elif kind == "end":
        outcome = await agent.agent_ends(services, actor, chat_id=chat_ref)
    else:
        await socket.send(error_frame("validation_error", f"unknown frame type {kind!r}"))
        return
    await bus.publish(outcome.topics)


async def _push_agent(
    services: Services,
    socket: Socket,
    subscription: Subscription,
    *,
    staff_id: str,
    connection_id: str,
) -> None:
    """Re-read what the agent sees when a topic is heard (everything on the timer) and send
    what changed: who is connected, the queue (empty while the agent is away: no new chats
    are offered), chats given to the agent (with their history), new lines, chats handed
    to someone else, chats that ended."""
    await socket.send({"type": "ready", "agent_id": staff_id})
    desk = _AgentDesk(services, socket, subscription, staff_id=staff_id)
    everything = {QUEUE_TOPIC, PRESENCE_TOPIC}
    heard: set[str] = everything
    beat = services.settings.support_chat_heartbeat_seconds
    loop = asyncio.get_running_loop()
    beaten_at = loop.time()
    while True:
        if PRESENCE_TOPIC in heard:
            await desk.push_presence()
        await desk.push_queue(forced=QUEUE_TOPIC in heard)
        await desk.push_chats()
        heard = await subscription.wait(beat)
        # Seen again at least every heartbeat, however busy the bus keeps this socket.
        if not heard or loop.time() - beaten_at >= beat:
            await presence.agent_heartbeat(services, staff_id, connection_id=connection_id)
            beaten_at = loop.time()
        if not heard:
            heard = everything


class _AgentDesk:
    """What one agent's socket has sent so far, and the re-reads that send the rest."""

    def __init__(
        self, services: Services, socket: Socket, subscription: Subscription, *, staff_id: str
    ) -> None:
        self.services = services
        self.socket = socket
        self.subscription = subscription
        self.staff_id = staff_id
        self.seen = 0
        self.known: set[str] = set()
        self.history_until: dict[str, int] = {}
        self.last_waiting: list[tuple[str, int | None]] | None = None
        self.last_presence: dict[str, Any] | None = None
        self.away = False

    async def push_presence(self) -> None:
        agents = await presence.agents(self.services)
        away = any(a.away for a in agents if a.staff_id == self.staff_id)
        frame = presence_frame(agents, away=away)
        if frame != self.last_presence:
            await self.socket.send(frame)
            self.last_presence = frame
        if away != self.away:
            self.away, self.last_waiting = away, None

    async def push_queue(self, *, forced: bool) -> None:
        if not forced and self.last_waiting is not None:
            return
        queue = [] if self.away else await agent.waiting(self.services)
        shape = [(c.id, c.queue_position) for c in queue]
        if shape != self.last_waiting:
            chats = [chat_frame("c", c, for_staff=True)["chat"] for c in queue]
            await self.socket.send({"type": "waiting", "chats": chats, "away": self.away})
            self.last_waiting = shape

    async def push_chats(self) -> None:
        now = await agent.agent_view(
            self.services, self.staff_id, known=sorted(self.known), after_id=self.seen
        )
        for chat in now.chats:
            if chat.id not in self.known and chat.status == ChatStatus.ACTIVE:
                await self._assigned(chat)
        for line in now.lines:
            if line.id > self.history_until.get(line.chat_id, 0):
                await self.socket.send(message_frame(line, for_staff=True))
            self.seen = max(self.seen, line.id)
        for chat in now.chats:
            if chat.id in self.known and chat.status == ChatStatus.CLOSED:
                await self._gone("ended", chat)
        for chat in now.released:
            await self._gone("released", chat)

    async def _assigned(self, chat: ChatView) -> None:
        history = await agent.chat_lines(self.services, chat_id=chat.id)
        frame = chat_frame("assigned", chat, for_staff=True)
        frame["messages"] = [message_frame(m, for_staff=True) for m in history]
        await self.socket.send(frame)
        # Lines up to here were sent with the history; later reads skip them.
        self.history_until[chat.id] = max((m.id for m in history), default=0)
        self.known.add(chat.id)
        self.subscription.follow(chat_topic(chat.id))

    async def _gone(self, kind: str, chat: ChatView) -> None:
        await self.socket.send(chat_frame(kind, chat, for_staff=True))
        self.known.discard(chat.id)
        self.history_until.pop(chat.id, None)
        self.subscription.forget(chat_topic(chat.id))
