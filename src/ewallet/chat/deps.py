"""The chat bus of the app: started by the sockets' lifespan, handed to routes and sockets.

Only the chat's routers (and this module) touch ``app.state`` for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request

from ewallet.chat.bus import ChatBus, make_bus
from ewallet.services import Services


def app_chat_bus(app: Any) -> ChatBus:
    bus: ChatBus = app.state.chat_bus
    return bus


@asynccontextmanager
async def running_bus(app: Any, services: Services) -> AsyncIterator[ChatBus]:
    """Start the bus for ``app`` (LISTEN on PostgreSQL), and stop it at the end."""
    bus = make_bus(services.settings, services.engine)
    await bus.start()
    app.state.chat_bus = bus
    try:
        yield bus
    finally:
        await bus.aclose()


async def get_chat_bus(request: Request) -> ChatBus:
    return app_chat_bus(request.app)


ChatBusDep = Annotated[ChatBus, Depends(get_chat_bus)]
