"""The ``ewallet`` command builds its services once, lazily, and closes them when it ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ewallet.cli.context as cli_context
from ewallet.bootstrap import running_services
from ewallet.cli.context import CliServices
from ewallet.cli.main import app
from ewallet.config import Settings
from ewallet.services import Services


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each opening (``open``) and closing (``close``) of the CLI's services, in order."""
    events: list[str] = []

    @asynccontextmanager
    async def counting(settings: Settings, *args: Any, **kwargs: Any) -> AsyncIterator[Services]:
        events.append("open")
        async with running_services(settings, *args, **kwargs) as services:
            yield services
        events.append("close")

    monkeypatch.setattr(cli_context, "running_services", counting)
    return events


def test_help_and_group_help_open_nothing(tmp_path: Path, counted: list[str]) -> None:
    database = tmp_path / "never.db"
    env = {
        "EWALLET_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "EWALLET_VAR_DIR": str(tmp_path / "var"),
    }
    for args in (["--help"], ["db", "--help"], ["worker", "--help"], ["serve", "--help"]):
        result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert counted == []
    assert not database.exists()
    assert not (tmp_path / "var").exists()  # not even the development secrets


async def test_services_are_opened_once_and_closed_at_the_end(
    settings: Settings, counted: list[str]
) -> None:
    cli = CliServices(settings)
    engines = [
        await _in_thread(cli.run, _engine_of),
        await _in_thread(cli.run, _engine_of),
    ]
    assert engines[0] is engines[1]
    assert counted == ["open"]
    await _in_thread(cli.close)
    await _in_thread(cli.close)  # twice is harmless
    assert counted == ["open", "close"]


def test_a_command_closes_its_services_even_when_it_fails(
    tmp_path: Path, counted: list[str]
) -> None:
    env = {
        "EWALLET_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        "EWALLET_VAR_DIR": str(tmp_path / "var"),
    }
    result = CliRunner().invoke(app, ["db", "check"], env=env)
    assert result.exit_code == 1  # an empty database is not at head
    assert counted == ["open", "close"]


async def _engine_of(services: Services) -> object:
    return services.engine


async def _in_thread(function: Any, *args: Any) -> Any:
    # The CLI runs its own event loop, as from a shell: keep it off the test's loop.
    return await asyncio.to_thread(function, *args)
