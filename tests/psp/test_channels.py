"""``PspChannels`` from settings: the embedded wallet with its in-process sandboxes, the key
rules of docs/psp.md, and production's refusals."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from pydantic import SecretStr
from starlette.routing import Mount

from ewallet.app import create_app
from ewallet.bootstrap.psp import mount_psp_sandboxes, psp_channels
from ewallet.config import Environment, Settings
from ewallet.http.deps import app_services
from ewallet.integrations.psp import (
    PaymentStatus,
    PspChannels,
    PspConfigurationError,
    PspNotConfiguredError,
)
from ewallet.integrations.psp.credentials import PspKeys
from ewallet.integrations.psp.keys import DevKeyring, private_key_pem, public_key_pem
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.sandbox.psp import InProcessSandboxes
from ewallet.sandbox.psp.embedded import alipay_sandbox_credentials, wechat_sandbox_credentials
from tests.psp.conftest import START, Keys

SECRETS = {
    "secret_key": SecretStr("test-secret-key-" + "x" * 32),
    "pin_pepper": SecretStr("test-pin-pepper-" + "y" * 32),
}


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'psp.db'}",
        var_dir=tmp_path / "var",
        **SECRETS,  # type: ignore[arg-type]
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def wallet(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(tmp_path), clock=FrozenClock(START))
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            yield app, c


async def test_embedded_wallet_starts_and_verifies_payments(
    wallet: tuple[FastAPI, httpx.AsyncClient], tmp_path: Path
) -> None:
    app, client = wallet
    psp: PspChannels = app_services(app).psp
    sandboxes: InProcessSandboxes = app.state.psp_sandboxes
    assert sandboxes.alipay is not None
    assert sandboxes.wechat_pay is not None
    assert psp.alipay_notify_url == "http://127.0.0.1:8000/v1/callbacks/alipay"

    started = await psp.start_payment(
        method="alipay", out_trade_no="tu_embedded_1", amount=Money(1000), subject="top-up"
    )
    pay_page = "http://127.0.0.1:8000/sandbox/alipay/pay/tu_embedded_1"
    assert (started.qr_code, started.pay_url) == (pay_page, pay_page)
    page = await client.get(pay_page)  # served by the wallet, through the mount
    assert page.status_code == 200
    assert "¥10.00" in page.text
    assert (await client.post(pay_page)).status_code == 200
    # The notify goes straight into the wallet app: its callback answered (whatever it is now).
    for _ in range(200):
        if sandboxes.alipay.deliveries.attempts:
            break
        await asyncio.sleep(0.01)
    [first, *_] = sandboxes.alipay.deliveries.attempts
    assert (first.url, first.attempt) == (psp.alipay_notify_url, 1)
    assert first.status_code is not None
    notice = psp.verify_alipay_notify(
        sandboxes.alipay.notify_form(sandboxes.alipay.trades["tu_embedded_1"])
    )
    assert (notice.amount_fen, notice.status) == (1000, PaymentStatus.SUCCEEDED)
    assert await psp.query(method="alipay", out_trade_no="tu_embedded_1") == notice

    started = await psp.start_payment(
        method="wechat_pay", out_trade_no="tu_embedded_2", amount=Money(1), subject="top-up"
    )
    assert started.qr_code == "http://127.0.0.1:8000/sandbox/wechat-pay/pay/tu_embedded_2"
    assert started.pay_url == started.qr_code
    order = sandboxes.wechat_pay.pay("tu_embedded_2")
    outgoing = sandboxes.wechat_pay.notification(order)
    notice = psp.verify_wechat_notify(outgoing.headers, outgoing.content)
    assert (notice.out_trade_no, notice.amount_fen) == ("tu_embedded_2", 1)
    assert await psp.query(method="wechat_pay", out_trade_no="tu_embedded_2") == notice

    key_files = sorted(p.name for p in (tmp_path / "var" / "psp").iterdir())
    assert key_files == [
        "alipay_app.pem",
        "alipay_platform.pem",
        "wechat_api_v3.key",
        "wechat_merchant.pem",
        "wechat_platform.pem",
    ]
    for path in (tmp_path / "var" / "psp").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_no_key_is_made_until_a_payment_needs_one(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        assert isinstance(app_services(app).psp, PspChannels)
    assert not (tmp_path / "var" / "psp").exists()


def test_a_standalone_sandbox_on_the_same_var_dir_agrees(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        psp_alipay_url="http://127.0.0.1:8602/gateway.do",
        psp_wechat_url="http://127.0.0.1:8603",
    )
    channels = PspChannels.from_settings(settings, clock=FrozenClock())
    assert channels.alipay is not None
    assert channels.wechat_pay is not None
    assert channels.alipay.gateway == "http://127.0.0.1:8602/gateway.do"
    assert channels.wechat_pay.base_url == "http://127.0.0.1:8603"
    wallet, sandbox = PspKeys(settings), PspKeys(settings)  # two processes, one var_dir
    ours, theirs = wallet.alipay(), alipay_sandbox_credentials(sandbox)
    assert numbers(ours.alipay_public_key) == numbers(theirs.platform_private_key.public_key())
    assert numbers(theirs.apps[settings.psp_alipay_app_id]) == numbers(
        ours.app_private_key.public_key()
    )
    merchant, platform = wallet.wechat(), wechat_sandbox_credentials(sandbox)
    registered = platform.merchants[settings.psp_wechat_mchid]
    assert merchant.platform_key_id == platform.platform_key_id
    assert merchant.platform_key_id is not None
    assert merchant.platform_key_id.startswith("PUB_KEY_ID_")
    assert (merchant.merchant_serial, merchant.api_v3_key) == (
        registered.serial_no,
        registered.api_v3_key,
    )
    assert len(merchant.api_v3_key) == 32


def test_production_needs_the_keys_of_a_configured_psp(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, env=Environment.PRODUCTION, psp_alipay_url="https://alipay.example/gateway.do"
    )
    with pytest.raises(PspConfigurationError) as raised:
        PspChannels.from_settings(settings, clock=FrozenClock())
    assert str(raised.value) == (
        "production needs these settings: EWALLET_PSP_ALIPAY_PRIVATE_KEY_PATH, "
        "EWALLET_PSP_ALIPAY_PUBLIC_KEY_PATH"
    )
    assert not (tmp_path / "var" / "psp").exists()


async def test_production_loads_configured_keys_and_mounts_no_sandbox(
    tmp_path: Path, keys: Keys
) -> None:
    private_path, public_path = tmp_path / "app.pem", tmp_path / "alipay_public.txt"
    private_path.write_text(private_key_pem(keys.alipay_app))
    pem = public_key_pem(keys.alipay_platform.public_key())
    public_path.write_text("".join(line for line in pem.splitlines() if "-----" not in line))
    settings = make_settings(
        tmp_path,
        env=Environment.PRODUCTION,
        psp_alipay_url="https://alipay.example/gateway.do",
        psp_alipay_private_key_path=private_path,
        psp_alipay_public_key_path=public_path,
    )
    app = FastAPI()
    app.state.clock = FrozenClock()
    sandboxes = mount_psp_sandboxes(app, settings)
    assert (sandboxes.alipay, sandboxes.wechat_pay) == (None, None)
    assert not [route for route in app.routes if isinstance(route, Mount)]
    channels = psp_channels(settings, FrozenClock(), app=app)
    assert channels.alipay is not None
    assert channels.wechat_pay is None
    with pytest.raises(PspNotConfiguredError) as raised:
        await channels.start_payment(
            method="wechat_pay", out_trade_no="tu_p1", amount=Money(1), subject="s"
        )
    assert raised.value.code == "upstream_unavailable"
    with pytest.raises(PspConfigurationError, match="no development keys"):
        PspKeys(settings).wechat_api_v3_key()


def test_a_wrong_length_api_v3_key_stops_start_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, psp_wechat_api_v3_key=SecretStr("too short"))
    with pytest.raises(PspConfigurationError, match="32 bytes"):
        PspKeys(settings).wechat()


def test_dev_keys_are_written_once_and_reused(tmp_path: Path) -> None:
    first, second = DevKeyring(tmp_path), DevKeyring(tmp_path)
    assert numbers(first.public_key("x")) == numbers(second.public_key("x"))
    assert first.api_v3_key() == second.api_v3_key()
    assert sorted(p.name for p in (tmp_path / "psp").iterdir()) == ["wechat_api_v3.key", "x.pem"]


def numbers(key: rsa.RSAPublicKey) -> rsa.RSAPublicNumbers:
    return key.public_numbers()
