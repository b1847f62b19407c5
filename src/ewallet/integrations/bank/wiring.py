"""Building the bank gateway from the settings, and embedding the sandbox bank.

``EWALLET_BANK_URL`` unset (the embedded default) means the sandbox bank runs in this
process: :func:`embedded_sandbox_bank` builds it for ``create_app`` to mount at
``/sandbox/bank`` (its test-card list and texts are browsable there), and the gateway
reaches the same app object over an ASGI transport. Production refuses the sandbox, as it
refuses the capturing SMS provider. :func:`bank_gateway_running` is entered in the
wallet's lifespan and leaves the gateway on ``app.state.bank_gateway``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import FastAPI

from ewallet.config import Environment, Settings
from ewallet.integrations.bank.errors import BankConfigurationError
from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.integrations.bank.port import BankGateway
from ewallet.kit.clock import Clock
from ewallet.sandbox.bank import SandboxBankConfig, create_bank_app, sandbox_bank_of
from ewallet.sandbox.bank.sms import WalletOutboxSms
from ewallet.security.crypto import derive_key

SANDBOX_BANK_PATH: Final = "/sandbox/bank"
# A sandbox "timeout" answers this long after the wallet gave up; a "slow" one well before.
_TIMEOUT_MARGIN_SECONDS: Final = 5.0
_SLOW_SHARE: Final = 0.25


def bank_key(settings: Settings) -> str:
    """The merchant key: ``EWALLET_BANK_KEY``, or one derived from the secret key.

    Derived, the wallet and a stand-alone sandbox started from the same settings (the same
    ``var/`` directory in development) agree on it without anyone copying a key around.
    """
    if settings.bank_key is not None:
        return settings.bank_key.get_secret_value()
    if settings.secret_key is None:
        raise BankConfigurationError("set EWALLET_BANK_KEY, or EWALLET_SECRET_KEY to derive it")
    master = settings.secret_key.get_secret_value().encode()
    return derive_key(master, "ewallet bank merchant key v1").hex()


def sandbox_bank_database_url(settings: Settings) -> str:
    default = f"sqlite+aiosqlite:///{settings.var_dir / 'sandbox-bank.db'}"
    return settings.sandbox_bank_db_url or default


def sandbox_bank_config(
    settings: Settings, *, database_url: str | None = None
) -> SandboxBankConfig:
    """The sandbox's configuration, its delays set around the wallet's bank timeout."""
    timeout = settings.bank_timeout_seconds
    return SandboxBankConfig(
        database_url=database_url or sandbox_bank_database_url(settings),
        merchant_key=bank_key(settings),
        timeout_delay_seconds=timeout + _TIMEOUT_MARGIN_SECONDS,
        slow_delay_seconds=timeout * _SLOW_SHARE,
    )


def embedded_sandbox_bank(app: FastAPI, settings: Settings) -> FastAPI | None:
    """The sandbox bank app for ``create_app`` to mount, or None when a bank URL is set.

    Its texts land in the wallet's ``sms_messages`` table through the engine the wallet's
    lifespan creates later (looked up when a text is sent).
    """
    if settings.bank_url is not None or settings.env is Environment.PRODUCTION:
        return None
    clock: Clock = app.state.clock
    texts = WalletOutboxSms(settings, engine=lambda: app.state.engine, clock=clock)
    bank_app = create_bank_app(sandbox_bank_config(settings), clock=clock, sms_sink=texts)
    app.state.sandbox_bank = bank_app
    return bank_app


@asynccontextmanager
async def bank_gateway_running(app: FastAPI) -> AsyncIterator[BankGateway]:
    """The wallet's bank gateway for the app's lifetime, on ``app.state.bank_gateway``."""
    settings: Settings = app.state.settings
    clock: Clock = app.state.clock
    timeout = settings.bank_timeout_seconds
    sandbox_app: FastAPI | None = getattr(app.state, "sandbox_bank", None)
    if settings.bank_url is not None:
        if settings.env is Environment.PRODUCTION and settings.bank_key is None:
            raise BankConfigurationError("production needs EWALLET_BANK_KEY for EWALLET_BANK_URL")
        gateway = HttpBankGateway(
            base_url=settings.bank_url, key=bank_key(settings), timeout=timeout, clock=clock
        )
    elif sandbox_app is None:
        raise BankConfigurationError(
            "the sandbox bank is for development only: set EWALLET_BANK_URL and EWALLET_BANK_KEY"
        )
    else:
        gateway = HttpBankGateway.in_process(
            sandbox_app, key=bank_key(settings), timeout=timeout, clock=clock
        )
    app.state.bank_gateway = gateway
    try:
        yield gateway
    finally:
        await gateway.aclose()
        if sandbox_app is not None:
            # Mounted apps get no lifespan of their own: the wallet closes the bank's engine.
            await sandbox_bank_of(sandbox_app).aclose()


@asynccontextmanager
async def standalone_bank_gateway(settings: Settings, clock: Clock) -> AsyncIterator[BankGateway]:
    """A gateway for commands and workers that run outside the API process.

    With ``EWALLET_BANK_URL`` it is the real HTTP client. In development without one, it is
    a sandbox bank in this process on the *same* database file the server's embedded bank
    uses, so ``ewallet reconcile`` or a settle run sees the operations the server made.
    """
    if settings.bank_url is not None:
        gateway = HttpBankGateway(
            base_url=settings.bank_url,
            key=bank_key(settings),
            timeout=settings.bank_timeout_seconds,
            clock=clock,
        )
        try:
            yield gateway
        finally:
            await gateway.aclose()
        return
    if settings.env is Environment.PRODUCTION:
        raise BankConfigurationError("production needs EWALLET_BANK_URL and EWALLET_BANK_KEY")
    bank_app = create_bank_app(sandbox_bank_config(settings), clock=clock)
    gateway = HttpBankGateway.in_process(
        bank_app, key=bank_key(settings), timeout=settings.bank_timeout_seconds, clock=clock
    )
    try:
        yield gateway
    finally:
        await gateway.aclose()
        await sandbox_bank_of(bank_app).aclose()


def gateway_from_app(app: FastAPI) -> BankGateway:
    """The running app's bank gateway (for services and dependencies)."""
    gateway: BankGateway | None = getattr(app.state, "bank_gateway", None)
    if gateway is None:
        raise RuntimeError("the bank gateway starts with the app's lifespan")
    return gateway
