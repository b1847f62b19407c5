"""``ewallet staff create``: prints the one-time password and TOTP secret that then work."""

from __future__ import annotations

import asyncio
import json

import httpx
import pyotp
import pytest
from typer.testing import CliRunner

from ewallet.cli.main import app as cli
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from tests.fixtures.staff import StaffLogin


@pytest.fixture
def cli_env(fast_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast_settings.secret_key is not None
    assert fast_settings.pin_pepper is not None
    monkeypatch.setenv("EWALLET_DATABASE_URL", fast_settings.database_url)
    monkeypatch.setenv("EWALLET_VAR_DIR", str(fast_settings.var_dir))
    monkeypatch.setenv("EWALLET_SECRET_KEY", fast_settings.secret_key.get_secret_value())
    monkeypatch.setenv("EWALLET_PIN_PEPPER", fast_settings.pin_pepper.get_secret_value())
    monkeypatch.setenv("EWALLET_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("EWALLET_ARGON2_MEMORY_KIB", "8192")


async def invoke(*args: str) -> tuple[int, str, str]:
    # A thread of its own: the command runs its own event loop, as from a shell.
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("cli_env")
async def test_create_json_then_sign_in(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    code, out, _ = await invoke(
        "staff", "create", "--role", "admin", "--email", "Boss@Bank.example", "--json"
    )

    assert code == 0, out
    created = json.loads(out)
    assert created["email"] == "boss@bank.example"
    assert created["role"] == "admin"
    assert created["must_change_password"] is True
    assert created["otpauth_uri"] == pyotp.TOTP(created["totp_secret"]).provisioning_uri(
        name="boss@bank.example", issuer_name="ewallet staff"
    )
    login = StaffLogin(
        created["id"], created["email"], "admin", created["password"], created["totp_secret"]
    )
    response = await client.post("/v1/staff/sessions", json=login.body(clock))
    assert response.status_code == 201, response.text
    assert response.json()["must_change_password"] is True


@pytest.mark.usefixtures("cli_env", "client")
async def test_create_refusals() -> None:
    code, out, _ = await invoke("staff", "create", "--role", "teller", "--email", "t@bank.example")
    assert code == 0
    assert "one-time password:" in out
    assert "TOTP secret:" in out

    code, _, err = await invoke("staff", "create", "--role", "teller", "--email", "T@bank.example")
    assert code == 1
    assert "exists" in err
    code, _, err = await invoke("staff", "create", "--role", "root", "--email", "r@bank.example")
    assert code == 2
    assert "--role" in err
