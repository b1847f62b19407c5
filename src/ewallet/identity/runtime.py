"""What identity services are handed: the process's services, and who is calling.

Services take an :class:`IdentityRuntime` -- the app's :class:`~ewallet.services.Services`
plus what only sign-in needs (the login delay, the dummy hash) -- and a :class:`Caller`
(address, user agent, language) instead of reading globals, so a test builds exactly the
runtime it needs. Endpoints get both through :data:`RuntimeDep` and :data:`CallerDep`.

Test hooks on ``app.state`` (set before serving): ``login_delay`` replaces the progressive
sign-in delay (e.g. with :func:`no_delay`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services, get_locale
from ewallet.kit.clock import Clock
from ewallet.kit.i18n import Locale
from ewallet.security.context import SecurityContext
from ewallet.security.passwords import Hasher
from ewallet.security.ratelimit import RateLimiter
from ewallet.services import Services

LoginDelay = Callable[[int], Awaitable[None]]
MAX_LOGIN_DELAY_SECONDS: Final = 2.0
FIRST_LOGIN_DELAY_SECONDS: Final = 0.25
MAX_USER_AGENT_LENGTH: Final = 120


async def progressive_delay(failures: int) -> None:
    """Wait longer after each consecutive wrong password: 0.25 s, 0.5 s, 1 s, then 2 s.

    It slows a guesser working one account without punishing a user who mistyped once;
    the temporary lock and the per-address limit handle guessers who run in parallel.
    """
    if failures > 0:
        exponent = min(failures - 1, 8)
        await asyncio.sleep(min(MAX_LOGIN_DELAY_SECONDS, FIRST_LOGIN_DELAY_SECONDS * 2**exponent))


async def no_delay(failures: int) -> None:
    """For tests: no waiting at all."""
    del failures


class DummyHash:
    """A real argon2 hash of a random secret, verified when the phone has no account.

    Checking a password against it costs what checking a real one costs, so the answer time
    of a sign-in does not tell whether the phone is registered.
    """

    def __init__(self, hasher: Hasher) -> None:
        self._hasher = hasher
        self._value: str | None = None

    async def get(self) -> str:
        if self._value is None:
            self._value = await self._hasher.hash(secrets.token_urlsafe(24))
        return self._value


@dataclass(frozen=True, slots=True)
class IdentityRuntime:
    """The process's :class:`Services`, and how sign-in answers wrong passwords."""

    services: Services
    login_delay: LoginDelay
    dummy_hash: DummyHash

    @property
    def engine(self) -> AsyncEngine:
        return self.services.engine

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def security(self) -> SecurityContext:
        return self.services.security

    @property
    def limiter(self) -> RateLimiter:
        return self.services.limiter

    @property
    def wake_outbox(self) -> Callable[[], None]:
        return self.services.wake_outbox


@dataclass(frozen=True, slots=True)
class Caller:
    ip: str | None
    user_agent: str | None
    locale: Locale


def app_rate_limiter(app: Any) -> RateLimiter:
    """The rate limiter of the app's services."""
    return app_services(app).limiter


def app_runtime(app: Any) -> IdentityRuntime:
    """The identity runtime on the app's services (its dummy hash made once per app)."""
    services = app_services(app)
    dummy: DummyHash | None = getattr(app.state, "identity_dummy_hash", None)
    if dummy is None:
        dummy = DummyHash(services.security.passwords)
        app.state.identity_dummy_hash = dummy
    return IdentityRuntime(
        services=services,
        login_delay=getattr(app.state, "login_delay", None) or progressive_delay,
        dummy_hash=dummy,
    )


async def get_runtime(request: Request) -> IdentityRuntime:
    return app_runtime(request.app)


async def get_caller(request: Request) -> Caller:
    agent = request.headers.get("user-agent")
    return Caller(
        ip=request.client.host if request.client else None,
        user_agent=agent[:MAX_USER_AGENT_LENGTH] if agent else None,
        locale=get_locale(request),
    )


RuntimeDep = Annotated[IdentityRuntime, Depends(get_runtime)]
CallerDep = Annotated[Caller, Depends(get_caller)]
