"""The biller gateway from the settings: the real aggregator, or the sandbox biller here.

``EWALLET_BILLER_URL`` set: the HTTP client of that aggregator (production also needs
``EWALLET_BILLER_KEY``). Unset, in development: the sandbox biller runs in this process --
mounted by the API at ``/sandbox/biller`` (its test accounts are browsable there), built
afresh on the same database file by the CLI and ``ewallet worker``, so every process sees
the same payments. Production refuses the sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import FastAPI

from ewallet.config import Environment, Settings
from ewallet.integrations.biller.http_gateway import HttpBillerGateway
from ewallet.integrations.biller.port import BillerGateway
from ewallet.kit.clock import Clock
from ewallet.sandbox.biller import SandboxBillerConfig, create_biller_app, sandbox_biller_of
from ewallet.security.crypto import derive_key

SANDBOX_BILLER_PATH: Final = "/sandbox/biller"
# A sandbox "timeout" answers this long after the wallet gave up.
_TIMEOUT_MARGIN_SECONDS: Final = 5.0


class BillerConfigurationError(RuntimeError):
    """The biller settings cannot work (e.g. the sandbox biller in production)."""


def biller_key(settings: Settings) -> str:
    """``EWALLET_BILLER_KEY``, or one derived from the secret key (the wallet and a
    stand-alone sandbox started from the same ``var/`` agree on it)."""
    if settings.biller_key is not None:
        return settings.biller_key.get_secret_value()
    if settings.secret_key is None:
        raise BillerConfigurationError("set EWALLET_BILLER_KEY, or EWALLET_SECRET_KEY to derive it")
    return derive_key(
        settings.secret_key.get_secret_value().encode(), "ewallet biller key v1"
    ).hex()


def sandbox_biller_config(
    settings: Settings, *, database_url: str | None = None
) -> SandboxBillerConfig:
    default = f"sqlite+aiosqlite:///{settings.var_dir / 'sandbox-biller.db'}"
    return SandboxBillerConfig(
        database_url=database_url or settings.sandbox_biller_db_url or default,
        key=biller_key(settings),
        timeout_delay_seconds=settings.biller_timeout_seconds + _TIMEOUT_MARGIN_SECONDS,
    )


def mount_sandbox_biller(app: FastAPI, settings: Settings) -> FastAPI | None:
    """Mount the sandbox biller at ``/sandbox/biller`` unless a URL is set (or production);
    kept on ``app.state.sandbox_biller``."""
    if settings.biller_url is not None or settings.env is Environment.PRODUCTION:
        return None
    biller_app = create_biller_app(sandbox_biller_config(settings), clock=app.state.clock)
    app.state.sandbox_biller = biller_app
    app.mount(SANDBOX_BILLER_PATH, biller_app)
    return biller_app


@asynccontextmanager
async def biller_gateway_running(
    settings: Settings, clock: Clock, *, app: FastAPI | None = None
) -> AsyncIterator[BillerGateway]:
    """The process's biller gateway, closed (with the sandbox's storage) at the end.

    With ``app``: its mounted sandbox biller, if any; without, a sandbox of this process's
    own on the shared database file. Refusals, at start: production without
    ``EWALLET_BILLER_URL``; production with it but without ``EWALLET_BILLER_KEY``.
    """
    timeout = settings.biller_timeout_seconds
    production = settings.env is Environment.PRODUCTION
    sandbox_app: FastAPI | None = None
    if settings.biller_url is not None:
        if production and settings.biller_key is None:
            raise BillerConfigurationError("production needs EWALLET_BILLER_KEY")
        gateway = HttpBillerGateway(
            base_url=settings.biller_url, key=biller_key(settings), timeout=timeout
        )
    elif production:
        raise BillerConfigurationError(
            "the sandbox biller is for development only: "
            "set EWALLET_BILLER_URL and EWALLET_BILLER_KEY"
        )
    else:
        sandbox_app = getattr(app.state, "sandbox_biller", None) if app else None
        if sandbox_app is None:
            sandbox_app = create_biller_app(sandbox_biller_config(settings), clock=clock)
        gateway = HttpBillerGateway(app=sandbox_app, key=biller_key(settings), timeout=timeout)
    try:
        yield gateway
    finally:
        await gateway.aclose()
        if sandbox_app is not None:
            # Mounted apps get no lifespan of their own: close the sandbox's engine here.
            await sandbox_biller_of(sandbox_app).aclose()
