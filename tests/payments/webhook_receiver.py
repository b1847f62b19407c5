"""A merchant's webhook endpoint for tests: uvicorn on 127.0.0.1 (a free port), in a thread.

It answers 500 to the first ``failures`` calls, then 200 -- or a redirect when
``redirect_to`` is set -- and records every call (headers, body, path).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

__all__ = ["Receiver", "receiver"]


@dataclass
class Receiver:
    """A merchant's endpoint: answers 500 to the first ``failures`` calls, then 200."""

    failures: int
    calls: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    port: int = 0
    redirect_to: str | None = None

    async def endpoint(self, request: Request) -> Response:
        body = (await request.body()).decode()
        self.calls.append(
            {"headers": dict(request.headers), "body": body, "path": request.url.path}
        )
        if len(self.calls) <= self.failures:
            return PlainTextResponse("try later", status_code=500)
        if self.redirect_to is not None:
            return RedirectResponse(self.redirect_to, status_code=302)
        return PlainTextResponse("ok")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(failures=2)
    app = Starlette(routes=[Route("/{path:path}", state.endpoint, methods=["POST"])])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, ws="none", lifespan="off", log_config=None, timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the receiver stopped before it started"
        assert time.monotonic() < deadline, "the receiver did not start in time"
        time.sleep(0.01)
    state.port = port
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
