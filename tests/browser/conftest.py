"""Browser tests: Debian's ``chromium`` driven by Playwright against the app served by uvicorn.

The browser is the system one (``apt-get install chromium``, as ``make test`` and ``.ci/run``
do); Playwright never downloads its own. Without ``/usr/bin/chromium`` the tests skip, unless
``EWALLET_REQUIRE_BROWSER=1`` (set by CI) turns the missing browser into a failure.

The launch flags keep Chromium quiet on a machine with no outside network: no background
fetches, component updates, sync or QUIC, so nothing it does on its own is refused or waited on.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import clock, make_app
from tests.fixtures.shop import Shop, shop_settings

__all__ = ["browser", "clock", "live_shop"]

CHROMIUM: Final = Path("/usr/bin/chromium")
LAUNCH_ARGS: Final = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_required() -> bool:
    return os.environ.get("EWALLET_REQUIRE_BROWSER") == "1"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Debian Chromium, fresh for each test (a new empty profile)."""
    if not CHROMIUM.exists():
        if browser_required():
            pytest.fail(f"EWALLET_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (make browser)")
        pytest.skip(f"{CHROMIUM} is missing: run `make browser` (Debian package chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def live_shop(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Shop]:
    """The shop harness over a real uvicorn server on 127.0.0.1 and a free port.

    The port is bound before the app is built so that ``public_url`` -- and with it every
    order's ``checkout_url`` -- names this very server (which is why tests/chat's ``live()``,
    which picks its port inside, does not fit here).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    quick = shop_settings(settings, public_url=base_url)
    app = make_app(quick, clock)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning", ws="none"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
            security = SecurityContext.from_settings(quick)
            yield Shop(engine, quick, clock, security, client, app_services(app), app)
    finally:
        server.should_exit = True
        await task
        listener.close()
