"""The chat sockets: ``WS /v1/support/chat`` (customers) and ``WS /v1/staff/support/chat``.

Each socket runs two tasks. The *reader* turns the client's frames into service calls and
publishes what changed on the bus after commit. The *pusher* waits for a topic it follows
(or the heartbeat timer), re-reads the chat from the database and sends whatever the client
has not seen yet: new lines, a new queue position, a new state. Nothing is sent from
memory, so the two sides of a chat may sit on different API processes. The protocol is in
docs/chat.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ewallet.chat import agent_side, customer_side, presence
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
    QUEUE_TOPIC,
    Subscription,
    agent_topic,
    app_chat_bus,
    chat_topic,
    running_bus,
)
from ewallet.chat.errors import ChatClosedError
from ewallet.chat.schemas import chat_frame, error_frame, message_frame
from ewallet.help.search import app_help_search
from ewallet.http.deps import app_clock, app_engine, app_settings
from ewallet.http.json_body import strict_loads
from ewallet.identity.deps import app_security
from ewallet.kit.errors import DomainError, ForbiddenError, NotFoundError, UnauthorizedError
from ewallet.kit.i18n import negotiate_locale


@asynccontextmanager
async def _bus(app: FastAPI) -> AsyncIterator[None]:
    async with running_bus(app, app_settings(app), app_engine(app)):
        yield


router = APIRouter(tags=["online chat"], lifespan=_bus)


class _Socket:
    """Sends one frame at a time (reader and pusher share the socket)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.ws = websocket
        self._sending = asyncio.Lock()  # serialises writes on one socket, nothing more

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._sending:
            await self.ws.send_json(frame)

    async def close(self, code: int, reason: str = "") -> None:
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self.ws.close(code=code, reason=reason)


async def _first_frame(socket: _Socket, seconds: float) -> dict[str, Any] | None:
    try:
        frame = strict_loads(await asyncio.wait_for(socket.ws.receive_text(), seconds))
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        return None
    if not isinstance(frame, dict) or frame.get("type") != "auth":
        return None
    if not isinstance(frame.get("token"), str):
        return None
    return frame


async def _run_both(reader: Awaitable[None], pusher: Awaitable[None]) -> None:
    """Run until either side stops (client gone, chat over), then stop the other."""
    tasks = [asyncio.ensure_future(reader), asyncio.ensure_future(pusher)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await task
    for task in done:
        error = task.exception()
        if error is not None and not isinstance(error, WebSocketDisconnect | RuntimeError):
            raise error


async def _serve_frames(
    socket: _Socket, handle: Callable[[dict[str, Any]], Awaitable[None]]
) -> None:
    """The reader: each client frame, with domain refusals answered as error frames."""
    while True:
        try:
            frame = strict_loads(await socket.ws.receive_text())
        except (ValueError, KeyError):
            await socket.send(error_frame("validation_error", "frames are JSON objects"))
            continue
        if not isinstance(frame, dict):
            await socket.send(error_frame("validation_error", "frames are JSON objects"))
            continue
        try:
            await handle(frame)
        except DomainError as error:
            await socket.send(error_frame(error.code, str(error)))


def _text_of(frame: dict[str, Any]) -> str:
    text = frame.get("text")
    return text if isinstance(text, str) else ""


@router.websocket("/v1/support/chat")
async def customer_chat(websocket: WebSocket) -> None:
    app = websocket.app
    settings, engine, clock = app_settings(app), app_engine(app), app_clock(app)
    socket = _Socket(websocket)
    await websocket.accept()
    if not settings.support_chat_enabled:
        await socket.close(CLOSE_DISABLED, "online chat is not offered")
        return
    first = await _first_frame(socket, settings.support_chat_auth_timeout_seconds)
    if first is None:
        await socket.close(CLOSE_UNAUTHORIZED, "send {type: auth, token} first")
        return
    try:
        user = await customer_from_token(
            engine, security=app_security(app), clock=clock, token=first["token"]
        )
    except UnauthorizedError:
        await socket.close(CLOSE_UNAUTHORIZED, "invalid or expired token")
        return
    wanted = first.get("chat_id")
    locale = negotiate_locale(str(first.get("locale") or websocket.headers.get("accept-language")))
    try:
        opened = await customer_side.open_chat(
            engine,
            clock=clock,
            user_id=user.user_id,
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

    async def handle(frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        common: dict[str, Any] = {"clock": clock, "user_id": user.user_id, "chat_id": chat_id}
        if kind == "message":
            outcome = await customer_side.customer_says(
                engine,
                settings=settings,
                search=app_help_search(app),
                text=_text_of(frame),
                **common,
            )
        elif kind == "handover":
            outcome = await customer_side.ask_for_agent(engine, settings=settings, **common)
        elif kind == "feedback":
            helpful = frame.get("helpful") is True
            outcome = await customer_side.customer_feedback(
                engine, settings=settings, helpful=helpful, **common
            )
        elif kind == "end":
            outcome = await customer_side.customer_ends(engine, **common)
        elif kind == "ping":
            await socket.send({"type": "pong"})
            return
        else:
            await socket.send(error_frame("validation_error", f"unknown frame type {kind!r}"))
            return
        await bus.publish(outcome.topics)

    subscription = bus.subscribe([chat_topic(chat_id), QUEUE_TOPIC])
    try:
        await _run_both(
            _serve_frames(socket, handle),
            _push_customer(socket, subscription, user_id=user.user_id, chat_id=chat_id),
        )
    finally:
        subscription.close()


async def _push_customer(
    socket: _Socket, subscription: Subscription, *, user_id: str, chat_id: str
) -> None:
    app = socket.ws.app
    engine, settings = app_engine(app), app_settings(app)
    seen = 0
    last_state: tuple[Any, ...] | None = None
    while True:
        chat, lines = await customer_side.customer_chat(
            engine, user_id=user_id, chat_id=chat_id, after_id=seen
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
        if chat.status == "closed":
            await socket.send(chat_frame("ended", chat, for_staff=False))
            await socket.close(1000, "chat ended")
            return
        await subscription.wait(settings.support_chat_heartbeat_seconds)


@router.websocket("/v1/staff/support/chat")
async def agent_chat(websocket: WebSocket) -> None:
    app = websocket.app
    settings, engine, clock = app_settings(app), app_engine(app), app_clock(app)
    socket = _Socket(websocket)
    await websocket.accept()
    first = await _first_frame(socket, settings.support_chat_auth_timeout_seconds)
    if first is None:
        await socket.close(CLOSE_UNAUTHORIZED, "send {type: auth, token} first")
        return
    ip = websocket.client.host if websocket.client is not None else None
    try:
        agent = await agent_from_token(
            engine, security=app_security(app), clock=clock, token=first["token"], ip=ip
        )
    except UnauthorizedError:
        await socket.close(CLOSE_UNAUTHORIZED, "invalid or expired staff token")
        return
    except ForbiddenError:
        await socket.close(CLOSE_FORBIDDEN, "your staff role does not answer chats")
        return
    bus = app_chat_bus(app)
    connection_id = await presence.agent_connected(engine, clock=clock, staff_id=agent.staff_id)

    async def handle(frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        chat_ref = frame.get("chat_id")
        if kind == "ping":
            await presence.agent_heartbeat(
                engine, clock=clock, staff_id=agent.staff_id, connection_id=connection_id
            )
            await socket.send({"type": "pong"})
            return
        if not isinstance(chat_ref, str):
            await socket.send(error_frame("validation_error", "chat_id is required"))
            return
        if kind == "take":
            outcome = await agent_side.take(
                engine, clock=clock, actor=agent.actor(), chat_id=chat_ref
            )
        elif kind == "message":
            outcome = await agent_side.agent_says(
                engine, clock=clock, staff_id=agent.staff_id, chat_id=chat_ref, text=_text_of(frame)
            )
        elif kind == "end":
            outcome = await agent_side.agent_ends(
                engine, clock=clock, actor=agent.actor(), chat_id=chat_ref
            )
        else:
            await socket.send(error_frame("validation_error", f"unknown frame type {kind!r}"))
            return
        await bus.publish(outcome.topics)

    subscription = bus.subscribe([QUEUE_TOPIC, agent_topic(agent.staff_id)])
    try:
        await _run_both(
            _serve_frames(socket, handle),
            _push_agent(socket, subscription, staff_id=agent.staff_id, connection_id=connection_id),
        )
    finally:
        subscription.close()
        stranded = await presence.agent_disconnected(
            engine, clock=clock, settings=app_settings(app), connection_id=connection_id
        )
        await bus.publish(stranded)


async def _push_agent(
    socket: _Socket, subscription: Subscription, *, staff_id: str, connection_id: str
) -> None:
    app = socket.ws.app
    engine, settings, clock = app_engine(app), app_settings(app), app_clock(app)
    await socket.send({"type": "ready", "agent_id": staff_id})
    seen = 0
    known: set[str] = set()
    last_waiting: list[tuple[str, int | None]] | None = None
    heard: set[str] = {QUEUE_TOPIC}
    while True:
        if QUEUE_TOPIC in heard or last_waiting is None:
            queue = await agent_side.waiting(engine)
            shape = [(c.id, c.queue_position) for c in queue]
            if shape != last_waiting:
                chats = [chat_frame("c", c, for_staff=True)["chat"] for c in queue]
                await socket.send({"type": "waiting", "chats": chats})
                last_waiting = shape
        chats, lines = await agent_side.agent_view(
            engine, staff_id=staff_id, known=sorted(known), after_id=seen
        )
        fresh: set[str] = set()
        for chat in chats:
            if chat.id not in known and chat.status == "active":
                history = await agent_side.chat_lines(engine, chat_id=chat.id)
                frame = chat_frame("assigned", chat, for_staff=True)
                frame["messages"] = [message_frame(m, for_staff=True) for m in history]
                await socket.send(frame)
                seen = max([seen, *(m.id for m in history)])
                known.add(chat.id)
                subscription.follow(chat_topic(chat.id))
                fresh.add(chat.id)
        for line in lines:
            if line.chat_id not in fresh:
                await socket.send(message_frame(line, for_staff=True))
            seen = max(seen, line.id)
        for chat in chats:
            if chat.id in known and chat.status == "closed":
                await socket.send(chat_frame("ended", chat, for_staff=True))
                known.discard(chat.id)
        heard = await subscription.wait(settings.support_chat_heartbeat_seconds)
        if not heard:
            await presence.agent_heartbeat(
                engine, clock=clock, staff_id=staff_id, connection_id=connection_id
            )
