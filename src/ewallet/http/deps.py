"""Typed FastAPI dependencies for what the app holds: engine, settings, clock, locale.

Endpoints declare ``engine: EngineDep`` and get the lifespan's engine, never a global, so a
test app with its own database and clock is just another ``create_app(settings, clock=...)``.
The ``app_*`` functions serve code that has the app but no dependency injection (middlewares).
Dependencies are ``async def`` even when they only read the app's state: FastAPI runs a plain
``def`` dependency in its thread pool, which costs every request a hop (docs/performance.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit import i18n
from ewallet.kit.clock import Clock
from ewallet.ledger import Ledger
from ewallet.services import Services


def app_engine(app: Any) -> AsyncEngine:
    return app_services(app).engine


def app_ledger(app: Any) -> Ledger:
    return app_services(app).ledger


def app_services(app: Any) -> Services:
    """The services the app's lifespan built (:mod:`ewallet.services`)."""
    services: Services | None = getattr(app.state, "services", None)
    if services is None:
        raise RuntimeError("the app has no services: is its lifespan running?")
    return services


def app_settings(app: Any) -> Settings:
    settings: Settings = app.state.settings
    return settings


def app_clock(app: Any) -> Clock:
    clock: Clock = app.state.clock
    return clock


async def get_engine(request: Request) -> AsyncEngine:
    return app_engine(request.app)


async def get_ledger(request: Request) -> Ledger:
    return app_ledger(request.app)


async def get_services(request: Request) -> Services:
    return app_services(request.app)


async def get_settings(request: Request) -> Settings:
    return app_settings(request.app)


async def get_clock(request: Request) -> Clock:
    return app_clock(request.app)


def get_locale(request: Request) -> i18n.Locale:
    """zh-CN or en, from ``Accept-Language`` (q-values respected; zh-CN by default)."""
    return i18n.negotiate_locale(request.headers.get("accept-language"))


async def locale_of_request(request: Request) -> i18n.Locale:
    """:func:`get_locale` as a dependency (async: FastAPI runs a plain ``def`` dependency in
    its thread pool, a hop per request for nothing)."""
    return get_locale(request)


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[Services, Depends(get_services)]
ClockDep = Annotated[Clock, Depends(get_clock)]
LocaleDep = Annotated[i18n.Locale, Depends(locale_of_request)]
