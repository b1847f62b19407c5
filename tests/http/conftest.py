"""Fixtures for the HTTP edge: a served app, and log lines captured as parsed JSON."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr

from ewallet.config import Settings
from ewallet.kit.logging import configure_logging

LogLines = Callable[[], list[dict[str, Any]]]


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give a client talking to it in-process."""
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    """Settings on a SQLite file nobody migrated: for tests that never need the schema."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}",
        var_dir=tmp_path / "var",
        secret_key=SecretStr("test-secret-key-" + "x" * 32),
        pin_pepper=SecretStr("test-pin-pepper-" + "y" * 32),
        ledger_upkeep_interval_seconds=0,  # no schema here for the ledger's upkeep to use
    )


@pytest.fixture
def log_lines(plain_settings: Settings) -> Iterator[LogLines]:
    """Configure the real logging into a buffer; the callable returns the lines so far."""
    buffer = io.StringIO()
    configure_logging(plain_settings, stream=buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield lines
    restore_logging()


def restore_logging() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "ewallet":
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = False
    logging.getLogger("alembic.runtime.migration").setLevel(logging.NOTSET)
    structlog.reset_defaults()
