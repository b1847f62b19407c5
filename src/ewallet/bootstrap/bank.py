"""The bank gateway from the settings: the real bank, or the sandbox bank in this process.

``EWALLET_BANK_URL`` set: the gateway is the HTTP client of that bank (production also
needs ``EWALLET_BANK_KEY``). Unset, in development: the sandbox bank runs in this process.
The API mounts it at ``/sandbox/bank`` (:func:`mount_sandbox_bank`; its test cards and texts
are browsable there) and the gateway reaches that same app over an ASGI transport; the CLI
and ``ewallet worker`` build one of their own on the *same* database file, so
``ewallet reconcile`` or a settle run sees the operations the server made. Production
refuses the sandbox, as it refuses the capturing SMS provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import FastAPI

from ewallet.config import Environment, Settings
from ewallet.http.deps import app_services
from ewallet.integrations.bank.errors import BankConfigurationError
from ewallet.integrations.bank.http_gateway import HttpBankGateway
from ewallet.integrations.bank.port import BankGateway
from ewallet.integrations.sms.outbox_provider import OutboxSmsSender
from ewallet.kit.clock import Clock
from ewallet.sandbox.bank import SandboxBankConfig, create_bank_app, sandbox_bank_of
from ewallet.sandbox.bank.sms import SmsPortSink
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


def mount_sandbox_bank(app: FastAPI, settings: Settings) -> FastAPI | None:
    """Mount the sandbox bank at ``/sandbox/bank`` unless a bank URL is set (or production).

    Kept on ``app.state.sandbox_bank`` for the gateway (and tests). Its texts land in the
    wallet's ``sms_messages`` table through the engine of the app's services, looked up
    when a text is sent (the services start with the lifespan, after mounting).
    """
    if settings.bank_url is not None or settings.env is Environment.PRODUCTION:
        return None
    clock: Clock = app.state.clock
    texts = SmsPortSink(
        lambda: OutboxSmsSender(settings, engine=app_services(app).engine, clock=clock)
    )
    bank_app = create_bank_app(sandbox_bank_config(settings), clock=clock, sms_sink=texts)
    app.state.sandbox_bank = bank_app
    app.mount(SANDBOX_BANK_PATH, bank_app)
    return bank_app


@asynccontextmanager
async def bank_gateway_running(
    settings: Settings, clock: Clock, *, app: FastAPI | None = None
) -> AsyncIterator[BankGateway]:
    """The process's bank gateway, closed (with the sandbox bank's storage) at the end.

    With ``app``: its mounted sandbox bank, if any. Without: a sandbox bank of this
    process's own on the shared database file. Refusals, at start: production without
    ``EWALLET_BANK_URL``; production with it but without ``EWALLET_BANK_KEY``.
    """
    timeout = settings.bank_timeout_seconds
    if settings.bank_url is not None:
        if settings.env is Environment.PRODUCTION and settings.bank_key is None:
            raise BankConfigurationError("production needs EWALLET_BANK_KEY for EWALLET_BANK_URL")
        gateway = HttpBankGateway(
            base_url=settings.bank_url, key=bank_key(settings), timeout=timeout, clock=clock
        )
        try:
            yield gateway
        finally:
            await gateway.aclose()
        return
    if settings.env is Environment.PRODUCTION:
        raise BankConfigurationError(
            "the sandbox bank is for development only: set EWALLET_BANK_URL and EWALLET_BANK_KEY"
        )
    sandbox_app: FastAPI | None = getattr(app.state, "sandbox_bank", None) if app else None
    if sandbox_app is None:
        sandbox_app = create_bank_app(sandbox_bank_config(settings), clock=clock)
    gateway = HttpBankGateway.in_process(
        sandbox_app, key=bank_key(settings), timeout=timeout, clock=clock
    )
    try:
        yield gateway
    finally:
        await gateway.aclose()
        # Mounted apps get no lifespan of their own: whoever runs the gateway closes the
        # sandbox's engine.
        await sandbox_bank_of(sandbox_app).aclose()
