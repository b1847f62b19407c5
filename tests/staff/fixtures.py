"""Fixtures of an app with a frozen clock, cheap argon2 and a live lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.http.conftest import serving
from tests.staff.helpers import START, fast


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return fast(settings)


@pytest.fixture
async def app(fast_settings: Settings, clock: FrozenClock, engine: AsyncEngine) -> FastAPI:
    return create_app(fast_settings, clock=clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


@pytest.fixture
def security(app: FastAPI) -> SecurityContext:
    security: SecurityContext = app.state.security
    return security
