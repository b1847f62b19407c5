"""Forwarded client addresses are believed only from EWALLET_TRUSTED_PROXIES.

Per-IP limits read ``request.client`` and the checkout cookie's ``Secure`` flag reads the
scheme, so a forged ``X-Forwarded-For`` / ``X-Forwarded-Proto`` from an untrusted peer must
change neither. Development trusts loopback by default (a proxy on the same machine);
production trusts nobody until told.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError

from ewallet.app import create_app
from ewallet.config import Environment, Settings

FORGED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def app_with_echo(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/test/whoami")
    async def whoami(request: Request) -> dict[str, str | None]:
        client = request.client.host if request.client else None
        return {"client": client, "scheme": request.url.scheme}

    return app


async def seen_from(app: FastAPI, peer: str) -> dict[str, str | None]:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/test/whoami", headers=FORGED)
        assert response.status_code == 200, response.text
        answer: dict[str, str | None] = response.json()
        return answer


BELIEVED = {"client": "203.0.113.9", "scheme": "https"}


async def test_development_trusts_loopback_only(plain_settings: Settings) -> None:
    app = app_with_echo(plain_settings)
    assert await seen_from(app, "127.0.0.1") == BELIEVED
    assert await seen_from(app, "198.51.100.4") == {"client": "198.51.100.4", "scheme": "http"}


async def test_production_trusts_nobody_by_default(plain_settings: Settings) -> None:
    production = plain_settings.model_copy(update={"env": Environment.PRODUCTION})
    assert production.trusted_proxy_networks() == ()
    app = app_with_echo(production)
    assert await seen_from(app, "127.0.0.1") == {"client": "127.0.0.1", "scheme": "http"}


@pytest.mark.parametrize("env", list(Environment))
async def test_the_setting_names_the_proxies(plain_settings: Settings, env: Environment) -> None:
    settings = Settings(
        **{
            **plain_settings.model_dump(),
            "env": env,
            "trusted_proxies": "10.0.0.0/8, 2001:db8::/32",
        }
    )
    app = app_with_echo(settings)
    assert await seen_from(app, "10.20.30.40") == BELIEVED
    assert await seen_from(app, "2001:db8::7") == BELIEVED
    assert await seen_from(app, "127.0.0.1") == {"client": "127.0.0.1", "scheme": "http"}


async def test_empty_trusts_nobody_even_in_development(plain_settings: Settings) -> None:
    app = app_with_echo(plain_settings.model_copy(update={"trusted_proxies": ""}))
    assert await seen_from(app, "127.0.0.1") == {"client": "127.0.0.1", "scheme": "http"}


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.internal", "10.0.0.1;10.0.0.2"])
def test_a_malformed_list_stops_start_up(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(trusted_proxies=value)
