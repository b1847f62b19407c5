"""One chat socket's plumbing (an adapter): serialised sends, the auth frame, two tasks.

Each socket runs two tasks. The *reader* turns the client's frames into service calls and
publishes what changed on the bus after commit. The *pusher* waits for a topic it follows
(or the heartbeat timer), re-reads the chat from the database and sends whatever the client
has not seen yet. Whichever stops first (client gone, chat over) stops the other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ewallet.chat.schemas import error_frame
from ewallet.http.json_body import strict_loads
from ewallet.kit.errors import DomainError


class Socket:
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


async def first_frame(socket: Socket, seconds: float) -> dict[str, Any] | None:
    """The ``{"type": "auth", "token": ...}`` frame within ``seconds``; None otherwise."""
    try:
        frame = strict_loads(await asyncio.wait_for(socket.ws.receive_text(), seconds))
    except (TimeoutError, ValueError, KeyError, WebSocketDisconnect):
        return None
    if not isinstance(frame, dict) or frame.get("type") != "auth":
        return None
    if not isinstance(frame.get("token"), str):
        return None
    return frame


async def run_both(reader: Awaitable[None], pusher: Awaitable[None]) -> None:
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


async def serve_frames(socket: Socket, handle: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
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


def text_of(frame: dict[str, Any]) -> str:
    text = frame.get("text")
    return text if isinstance(text, str) else ""
