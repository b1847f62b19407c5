"""The wallet's wiring: the embedded sandbox, its texts in the wallet's outbox, the settings."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.app import create_app
from ewallet.bootstrap.bank import (
    bank_gateway_running,
    bank_key,
    mount_sandbox_bank,
    sandbox_bank_config,
)
from ewallet.cli.main import app as cli
from ewallet.config import Environment, Settings
from ewallet.http.deps import app_services
from ewallet.integrations.bank.errors import BankConfigurationError
from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.kit.clock import FrozenClock
from ewallet.kit.errors import UpstreamUnavailableError
from ewallet.kit.money import Money
from ewallet.models.tables import sms_messages
from ewallet.sandbox.bank import TEST_CARDS, SandboxBankConfig, create_bank_app
from ewallet.sandbox.bank.sms import EchoSms
from tests.fixtures.serving import serving
from tests.sandbox_bank.conftest import KEY, config_for

ICBC = TEST_CARDS[0]


async def test_the_embedded_bank_texts_into_the_wallets_outbox(
    engine: AsyncEngine, settings: Settings
) -> None:
    app = create_app(settings, clock=FrozenClock())
    async with serving(app) as client:
        listed = await client.get("/sandbox/bank/test-cards")
        assert listed.status_code == 200
        assert listed.json()[0]["number"] == ICBC.number
        gateway = app_services(app).bank
        assert isinstance(gateway, HttpBankGateway)
        await gateway.start_binding(
            card_number=ICBC.number,
            holder_name=ICBC.holder_name,
            id_number=ICBC.id_number,
            bank_phone=ICBC.bank_phone,
            request_id="card:1",
        )
        async with engine.connect() as connection:
            (text,) = (await connection.execute(select(sms_messages))).all()
        assert (text.recipient, text.sender) == ("+8613800138001", "中国工商银行")
        assert text.code is not None
        assert text.code in text.body
        assert text.created_at == datetime.fromisoformat("2026-01-01T00:00:00+00:00")
        bound = await gateway.confirm_binding(request_id="card:1", code=text.code)
        result = await gateway.debit(
            agreement_token=bound.agreement_token, amount=Money(100), request_id="topup:1"
        )
        assert result.status == "succeeded"
    # The bank kept its own books in its own file, beside the wallet's.
    assert (settings.var_dir / "sandbox-bank.db").exists()


async def test_a_bank_url_means_no_sandbox_and_a_network_gateway(
    engine: AsyncEngine, settings: Settings
) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    configured = settings.model_copy(update={"bank_url": f"http://127.0.0.1:{port}"})
    app = create_app(configured)
    assert mount_sandbox_bank(app, configured) is None
    async with serving(app) as client:
        assert (await client.get("/sandbox/bank/test-cards")).status_code == 404
        with pytest.raises(UpstreamUnavailableError):
            await app_services(app).bank.query(request_id="topup:1")
    assert not (settings.var_dir / "sandbox-bank.db").exists()


def bare_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    app.state.clock = FrozenClock()
    return app


def production(**changes: Any) -> Settings:
    return Settings(
        env=Environment.PRODUCTION,
        secret_key=SecretStr("k" * 48),
        pin_pepper=SecretStr("p" * 48),
        **changes,
    )


async def test_production_refuses_the_sandbox_and_a_derived_key() -> None:
    settings = production()
    app = bare_app(settings)
    assert mount_sandbox_bank(app, settings) is None
    with pytest.raises(BankConfigurationError, match="development only"):
        async with bank_gateway_running(settings, FrozenClock(), app=app):
            pass
    # Without an app (the CLI, the worker) just the same.
    with pytest.raises(BankConfigurationError, match="development only"):
        async with bank_gateway_running(settings, FrozenClock()):
            pass
    keyless = production(bank_url="https://bank.example")
    with pytest.raises(BankConfigurationError, match="EWALLET_BANK_KEY"):
        async with bank_gateway_running(keyless, FrozenClock(), app=bare_app(keyless)):
            pass
    real = production(bank_url="https://bank.example", bank_key=SecretStr("issued-by-bank"))
    async with bank_gateway_running(real, FrozenClock(), app=bare_app(real)) as gateway:
        assert isinstance(gateway, HttpBankGateway)


def test_the_key_is_derived_from_the_secret_unless_given() -> None:
    one = Settings(secret_key=SecretStr("a" * 48))
    assert bank_key(one) == bank_key(Settings(secret_key=SecretStr("a" * 48)))
    assert bank_key(one) != bank_key(Settings(secret_key=SecretStr("b" * 48)))
    assert len(bank_key(one)) == 64
    given = Settings(secret_key=SecretStr("a" * 48), bank_key=SecretStr("k1"))
    assert bank_key(given) == "k1"
    with pytest.raises(BankConfigurationError):
        bank_key(Settings(secret_key=None, bank_key=None))


def test_the_sandbox_delays_straddle_the_wallets_timeout(tmp_path: Path) -> None:
    settings = Settings(secret_key=SecretStr("a" * 48), var_dir=tmp_path, bank_timeout_seconds=4)
    config = sandbox_bank_config(settings)
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'sandbox-bank.db'}"
    assert config.slow_delay_seconds < 4 < config.timeout_delay_seconds
    assert config.merchant_key == bank_key(settings)
    elsewhere = settings.model_copy(update={"sandbox_bank_db_url": "sqlite+aiosqlite:///x.db"})
    assert sandbox_bank_config(elsewhere).database_url == "sqlite+aiosqlite:///x.db"


def test_the_command_serves_the_bank_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EWALLET_VAR_DIR", str(tmp_path / "var"))
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    result = CliRunner().invoke(cli, ["sandbox", "bank", "--port", "8611"])
    assert result.exit_code == 0, result.output
    ((app,), options) = calls[0]
    assert isinstance(app, FastAPI)
    assert options == {"host": "127.0.0.1", "port": 8611, "server_header": False}
    config: SandboxBankConfig = app.state.bank.config
    assert config.database_url.endswith("var/sandbox-bank.db")
    assert "sandbox bank on http://127.0.0.1:8611" in result.output


async def test_the_stand_alone_bank_prints_its_texts(tmp_path: Path) -> None:
    printed: list[str] = []
    app = create_bank_app(config_for(tmp_path / "b.db"), sms_sink=EchoSms(printed.append))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bank") as client:
        body = {
            "card_number": ICBC.number,
            "holder_name": ICBC.holder_name,
            "id_number": ICBC.id_number,
            "bank_phone": ICBC.bank_phone,
            "request_id": "b:1",
        }
        response = await client.post("/bind", json=body, headers={"X-Bank-Key": KEY})
        assert response.status_code == 200
        (text,) = (await client.get("/sms")).json()
    assert printed == [f"[sandbox bank SMS] to +8613800138001 from 中国工商银行: {text['body']}"]
    await app.state.bank.aclose()
