"""Building the biller gateway from the settings, and embedding the sandbox biller.

``EWALLET_BILLER_URL`` unset means the sandbox biller runs in this process: mounted at
``/sandbox/biller`` (its test accounts are browsable there) and reached by the gateway
over an ASGI transport. Production refuses the sandbox. A worker process builds its own
sandbox on the same database file (:func:`standalone_biller_gateway`), so both see the
same payments.
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


def embedded_sandbox_biller(app: FastAPI, settings: Settings) -> FastAPI | None:
    """The sandbox biller app for ``create_app`` to mount, or None when a URL is set."""
    if settings.biller_url is not None or settings.env is Environment.PRODUCTION:
        return None
    biller_app = create_biller_app(sandbox_biller_config(settings), clock=app.state.clock)
    app.state.sandbox_biller = biller_app
    return biller_app


def _gateway(settings: Settings, sandbox_app: FastAPI | None) -> HttpBillerGateway:
    timeout = settings.biller_timeout_seconds
    if settings.biller_url is not None:
        if settings.env is Environment.PRODUCTION and settings.biller_key is None:
            raise BillerConfigurationError("production needs EWALLET_BILLER_KEY")
        return HttpBillerGateway(
            base_url=settings.biller_url, key=biller_key(settings), timeout=timeout
        )
    if sandbox_app is None or settings.env is Environment.PRODUCTION:
        raise BillerConfigurationError(
            "the sandbox biller is for development only: "
            "set EWALLET_BILLER_URL and EWALLET_BILLER_KEY"
        )
    return HttpBillerGateway(app=sandbox_app, key=biller_key(settings), timeout=timeout)


@asynccontextmanager
async def biller_gateway_running(app: FastAPI, settings: Settings) -> AsyncIterator[BillerGateway]:
    """The app's biller gateway for its lifetime, on ``app.state.biller_gateway``."""
    sandbox_app: FastAPI | None = getattr(app.state, "sandbox_biller", None)
    gateway = _gateway(settings, sandbox_app)
    app.state.biller_gateway = gateway
    try:
        yield gateway
    finally:
        await gateway.aclose()
        if sandbox_app is not None:
            # Mounted apps get no lifespan of their own: close the sandbox's engine here.
            await sandbox_biller_of(sandbox_app).aclose()


@asynccontextmanager
async def standalone_biller_gateway(
    settings: Settings, clock: Clock
) -> AsyncIterator[BillerGateway]:
    """A gateway for the worker: the real biller, or a sandbox on the shared database."""
    sandbox_app = None
    if settings.biller_url is None and settings.env is not Environment.PRODUCTION:
        sandbox_app = create_biller_app(sandbox_biller_config(settings), clock=clock)
    gateway = _gateway(settings, sandbox_app)
    try:
        yield gateway
    finally:
        await gateway.aclose()
        if sandbox_app is not None:
            await sandbox_biller_of(sandbox_app).aclose()


def biller_gateway_of(app: FastAPI) -> BillerGateway:
    gateway: BillerGateway | None = getattr(app.state, "biller_gateway", None)
    if gateway is None:
        raise RuntimeError("the biller gateway starts with the app's lifespan")
    return gateway


def mount_biller_sandbox(app: FastAPI, settings: Settings) -> None:
    """Mount the in-process sandbox biller at ``/sandbox/biller`` unless a URL is set."""
    if (sandbox := embedded_sandbox_biller(app, settings)) is not None:
        app.mount(SANDBOX_BILLER_PATH, sandbox)
