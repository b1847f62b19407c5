"""Audit fixtures (tests/conftest.py re-seeds the chain head after truncating)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from tests.fixtures.staff import START


@pytest.fixture
async def audit_engine(engine: AsyncEngine) -> AsyncEngine:
    return engine


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)
