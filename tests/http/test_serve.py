"""``ewallet serve`` migrates first, then hands uvicorn our app factory with our logging."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from ewallet.app import app_from_env
from ewallet.cli import serve as serve_module
from ewallet.kit.db.engine import make_engine
from ewallet.models import migrate
from ewallet.payments.links import checkout_url, public_base_url
from tests.fixtures.serving import restore_logging


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "serve.db"
    monkeypatch.setenv("EWALLET_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("EWALLET_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EWALLET_PORT", "8765")
    # serve() writes these for its worker processes: monkeypatch puts them back afterwards.
    monkeypatch.setenv("EWALLET_HOST", "127.0.0.1")
    return database


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> Any:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    yield calls
    restore_logging()


async def _revision(database: Path) -> str | None:
    engine = make_engine(f"sqlite+aiosqlite:///{database}", pool_size=1)
    try:
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def test_serve_migrates_then_runs_the_factory(env: Path, uvicorn_calls: Any) -> None:
    cli = typer.Typer()
    cli.command()(serve_module.serve)
    result = CliRunner().invoke(cli, ["--host", "0.0.0.0", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert uvicorn_calls == [
        (
            ("ewallet.app:app_from_env",),
            {
                "factory": True,
                "host": "0.0.0.0",
                "port": 8765,
                "workers": 2,
                "access_log": False,
                "log_config": None,
                "server_header": False,
                "proxy_headers": False,
            },
        )
    ]
    module, name = serve_module.APP_FACTORY.split(":")
    assert getattr(importlib.import_module(module), name) is app_from_env


async def test_the_database_is_at_head_after_serve(env: Path, uvicorn_calls: Any) -> None:
    # serve() runs its own event loop, so call it from a worker thread here.
    await asyncio.to_thread(serve_module.serve, None, 8001, 1, False)
    assert await _revision(env) == migrate.head_revision()
    assert uvicorn_calls[0][1]["host"] == "127.0.0.1"
    assert uvicorn_calls[0][1]["port"] == 8001


def test_demo_flag_says_what_it_does(env: Path, uvicorn_calls: Any) -> None:
    cli = typer.Typer()
    cli.command()(serve_module.serve)
    result = CliRunner().invoke(cli, ["--demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data" in result.output
    assert len(uvicorn_calls) == 1


def test_app_from_env_reads_the_environment(env: Path) -> None:
    try:
        app = app_from_env()
        assert app.state.settings.port == 8765
        assert app.state.settings.database_url.endswith("serve.db")
    finally:
        restore_logging()


def test_the_served_port_reaches_checkout_links(
    env: Path, uvicorn_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = typer.Typer()
    cli.command()(serve_module.serve)
    result = CliRunner().invoke(cli, ["--port", "9123"])
    assert result.exit_code == 0, result.output
    try:
        settings = app_from_env().state.settings  # what each worker process builds
        assert public_base_url(settings) == "http://127.0.0.1:9123"
        assert checkout_url(settings, "ord_1").startswith("http://127.0.0.1:9123/checkout/")
        # An explicit public URL still wins.
        monkeypatch.setenv("EWALLET_PUBLIC_URL", "https://pay.example.com")
        assert public_base_url(app_from_env().state.settings) == "https://pay.example.com"
    finally:
        restore_logging()
