"""Chat over real sockets: the app served by uvicorn on a free port, clients from ``websockets``.

Heartbeats are set to a minute, so within a test's few-second waits every update a socket
receives came through the chat bus, not from the periodic re-read.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.ids import new_id
from ewallet.models.identity import AuthSession
from ewallet.security.context import SecurityContext
from tests.staff.helpers import START, fast, make_staff, staff_token, users_table

WAIT = 10.0
sessions = cast(Table, AuthSession.__table__)


@asynccontextmanager
async def live(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port; yields ``host:port``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


class Socket:
    """A JSON client socket with a patient ``expect``."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def next(self) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), WAIT))
        self.frames.append(frame)
        return frame

    async def expect(self, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next frame satisfying ``check`` (earlier ones are kept in ``frames``)."""
        while True:
            frame = await self.next()
            if check(frame):
                return frame

    async def close_code(self) -> int | None:
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), WAIT)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


@asynccontextmanager
async def connect(
    address: str, path: str, token: str | None, **extra: Any
) -> AsyncIterator[Socket]:
    async with websockets.connect(f"ws://{address}{path}") as connection:
        sock = Socket(connection)
        if token is not None:
            await sock.send({"type": "auth", "token": token, **extra})
        yield sock


def is_message(sender: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["type"] == "message" and f["sender"] == sender


@dataclass
class ChatWorld:
    engine: AsyncEngine
    settings: Settings
    clock: FrozenClock
    security: SecurityContext

    def app(self) -> FastAPI:
        return create_app(self.settings, clock=self.clock)

    async def customer(self, phone: str | None = None) -> tuple[str, str]:
        """A user with a live session; returns (user id, access token)."""
        now = self.clock.now()
        user_id, session_id = new_id("usr"), new_id("ses")
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(users_table).values(
                    id=user_id,
                    phone=phone or f"+86139{secrets.randbelow(10**8):08d}",
                    status="active",
                    tier=1,
                    locale="zh-CN",
                    login_password_hash="not-a-real-hash",
                    login_password_changed_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            await conn.execute(
                insert(sessions).values(
                    id=session_id,
                    user_id=user_id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(days=1),
                )
            )
        token = self.security.tokens.issue(
            kind="user", subject=user_id, session_id=session_id, now=now, ttl=timedelta(hours=1)
        )
        return user_id, token

    async def agent(self, role: str = "support_agent") -> tuple[str, str]:
        login = await make_staff(self.engine, self.security, self.clock, role)
        token = await staff_token(self.engine, self.security, self.settings, self.clock, login.id)
        return login.id, token


@pytest.fixture
def world(engine: AsyncEngine, settings: Settings) -> ChatWorld:
    quick = fast(settings).model_copy(
        update={
            "support_chat_enabled": True,
            "support_chat_heartbeat_seconds": 60.0,
            "support_chat_auth_timeout_seconds": 2.0,
        }
    )
    return ChatWorld(engine, quick, FrozenClock(START), SecurityContext.from_settings(quick))


def client(address: str, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(base_url=f"http://{address}", headers=headers, timeout=WAIT)
