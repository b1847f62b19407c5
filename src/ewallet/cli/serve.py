"""``ewallet serve``: migrate the database, then run the API under uvicorn.

Migrating first means ``make serve`` on a fresh checkout just works, and a process never
serves against an older schema than its code (``/readyz`` would refuse it anyway). The
migration runs on services of its own, closed before uvicorn starts. Uvicorn gets an app
factory rather than an app, so each worker process builds its own services (in the app's
lifespan), and no log config of its own: our JSON logs (with their own access line) cover it.
"""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Final

import structlog
import typer
import uvicorn

from ewallet.bootstrap import running_services
from ewallet.cli.demo import run_seed
from ewallet.config import Settings, load_settings
from ewallet.kit.logging import configure_logging
from ewallet.models import migrate

APP_FACTORY: Final = "ewallet.app:app_from_env"
HOST_VARIABLE: Final = "EWALLET_HOST"
PORT_VARIABLE: Final = "EWALLET_PORT"

log = structlog.get_logger("ewallet.cli.serve")


async def _migrate(settings: Settings) -> None:
    async with running_services(settings, pool_size=1) as services:
        await migrate.upgrade(services.engine)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: EWALLET_HOST]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port [default: EWALLET_PORT]")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    demo: Annotated[bool, typer.Option("--demo", help="Load demo data first")] = False,
) -> None:
    """Migrate the database to the newest schema, then serve the wallet's HTTP API."""
    settings = load_settings()
    configure_logging(settings)
    asyncio.run(_migrate(settings))
    log.info("serve.migrated", revision=migrate.head_revision())
    if demo:
        run_seed(settings)
        configure_logging(settings)  # the seed quietened it
    bind_host = host or settings.host
    bind_port = port or settings.port
    # The app (in every worker process) reads its settings from the environment: the
    # address given here is where checkout and PSP links point unless a public URL is set.
    os.environ[HOST_VARIABLE] = bind_host
    os.environ[PORT_VARIABLE] = str(bind_port)
    log.info("serve.starting", host=bind_host, port=bind_port, workers=workers)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        access_log=False,
        log_config=None,
        server_header=False,
        # The app believes forwarded headers from EWALLET_TRUSTED_PROXIES only; uvicorn's
        # own default would trust any local process.
        proxy_headers=False,
    )
