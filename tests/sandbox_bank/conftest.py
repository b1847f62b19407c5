"""The sandbox bank on a tmp SQLite file, and the wallet's real gateway talking to it.

Delays are tiny: the gateway waits ``GATEWAY_TIMEOUT`` seconds, a "timeout" operation
would answer after ``TIMEOUT_DELAY`` and a "slow" one after ``SLOW_DELAY``. The bank's
clock is frozen at 10:00 Beijing time, so settlement days are predictable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from ewallet.integrations.bank.http_gateway import SANDBOX_BASE_URL, HttpBankGateway
from ewallet.kit.clock import FrozenClock
from ewallet.sandbox.bank import SandboxBankConfig, create_bank_app

KEY = "sandbox-test-key"
GATEWAY_TIMEOUT = 10.0  # a loaded CI machine once took over 6 s to bind
TIMEOUT_DELAY = 10.5
SLOW_DELAY = 0.1
MORNING = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def config_for(path: Path) -> SandboxBankConfig:
    return SandboxBankConfig(
        database_url=f"sqlite+aiosqlite:///{path}",
        merchant_key=KEY,
        timeout_delay_seconds=TIMEOUT_DELAY,
        slow_delay_seconds=SLOW_DELAY,
    )


@pytest.fixture
def bank_clock() -> FrozenClock:
    return FrozenClock(MORNING)


@pytest.fixture
def bank_config(tmp_path: Path) -> SandboxBankConfig:
    return config_for(tmp_path / "sandbox-bank.db")


@pytest.fixture
async def bank_app(
    bank_config: SandboxBankConfig, bank_clock: FrozenClock
) -> AsyncIterator[FastAPI]:
    app = create_bank_app(bank_config, clock=bank_clock)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        yield app


@pytest.fixture
async def gateway(bank_app: FastAPI, bank_clock: FrozenClock) -> AsyncIterator[HttpBankGateway]:
    gateway = HttpBankGateway.in_process(
        bank_app, key=KEY, timeout=GATEWAY_TIMEOUT, clock=bank_clock
    )
    yield gateway
    await gateway.aclose()


@pytest.fixture
async def raw(bank_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client without the merchant key, for the wire format itself."""
    transport = httpx.ASGITransport(app=bank_app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL) as client:
        yield client
