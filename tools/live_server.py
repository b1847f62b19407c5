"""The app served by uvicorn on 127.0.0.1 from a thread with its own event loop.

For programs that drive a browser (sync Playwright) against the wallet while keeping the
app's services at hand: the browser tests (tests/fixtures/web.py), ``make screenshots``
(tools/screenshots.py) and ``make bench-web`` (bench/web.py). ``run(coro)`` executes a
coroutine on the server's loop, where the app's engine and services live.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn

T = TypeVar("T")


def bound_listener() -> tuple[socket.socket, str]:
    """A socket bound to a free port of 127.0.0.1, and its base URL (known before the app
    is built, so settings such as ``public_url`` can name it)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


KEEP_ALIVE_SECONDS = 60


class ServerThread:
    """uvicorn serving ``app`` on ``listener`` from a daemon thread."""

    def __init__(self, app: Any, listener: socket.socket) -> None:
        self.app = app
        self.listener = listener
        self.loop = asyncio.new_event_loop()
        # Idle connections are kept longer than httpx keeps them in its pool (5 s): with
        # uvicorn's own 5 s, a client could send on a connection the server was closing
        # at that very moment, and the test would fail with a read error.
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                lifespan="on",
                log_level="warning",
                ws="websockets-sansio",
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
            )
        )
        self.thread = threading.Thread(target=self._run, name="web-server", daemon=True)
        self.failure: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve(sockets=[self.listener]))
        except BaseException as error:
            self.failure = error

    def start(self) -> None:
        self.thread.start()
        for _ in range(1500):
            if self.server.started:
                return
            if not self.thread.is_alive():
                raise RuntimeError("the web server stopped while starting") from self.failure
            threading.Event().wait(0.02)
        raise RuntimeError("the web server did not start in 30 s")

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        if not self.loop.is_closed():
            self.loop.close()
        self.listener.close()
