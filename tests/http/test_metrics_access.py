"""``/metrics`` is for operators: open in development, token-guarded or absent elsewhere."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from ewallet.app import create_app
from ewallet.config import Environment, Settings

TOKEN = "metrics-" + "t" * 32


async def get_metrics(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get("/metrics", headers=headers or {})


async def test_development_without_a_token_is_open(plain_settings: Settings) -> None:
    response = await get_metrics(create_app(plain_settings))
    assert response.status_code == 200
    assert "ewallet_http_requests_total" in response.text or "# HELP" in response.text


async def test_production_without_a_token_has_no_metrics(plain_settings: Settings) -> None:
    production = plain_settings.model_copy(update={"env": Environment.PRODUCTION})
    response = await get_metrics(create_app(production))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "# HELP" not in response.text
    with_bearer = await get_metrics(create_app(production), {"Authorization": "Bearer x"})
    assert with_bearer.status_code == 404


async def test_a_token_is_required_wherever_one_is_set(plain_settings: Settings) -> None:
    for env in Environment:
        settings = plain_settings.model_copy(update={"env": env, "metrics_token": SecretStr(TOKEN)})
        app = create_app(settings)
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": f"Bearer {TOKEN}x"},
        ):
            refused = await get_metrics(app, headers)
            assert refused.status_code == 401, (env, headers)
            assert refused.json()["code"] == "unauthorized"
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert TOKEN not in refused.text
        allowed = await get_metrics(app, {"Authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code == 200
        assert "# HELP" in allowed.text
