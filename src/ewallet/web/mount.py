"""Mounting the web front ends on the app: the staff console under ``/console``, the
wallet's pages at ``/`` and the static files (our stylesheets and scripts, icons, vendored
htmx) at ``/static``."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ewallet.web.console.routes import router as console_router
from ewallet.web.kit.templates import STATIC_PATH
from ewallet.web.wallet.routes import router as wallet_router


def install_web(app: FastAPI) -> None:
    app.include_router(console_router)
    app.include_router(wallet_router)
    folder = resources.files("ewallet.web") / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=str(folder)), name="static")
