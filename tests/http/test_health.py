"""Liveness, readiness (database and schema) and Prometheus metrics."""

from __future__ import annotations

import re

from fastapi import APIRouter, FastAPI

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.problem import PROBLEM_MEDIA_TYPE
from tests.fixtures.serving import LogLines, serving

router = APIRouter()


@router.get("/v1/test/things/{thing_id}")
async def thing(thing_id: str) -> dict[str, str]:
    return {"id": thing_id}


async def test_healthz(plain_settings: Settings) -> None:
    async with serving(create_app(plain_settings)) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_on_a_migrated_database(settings: Settings) -> None:
    async with serving(create_app(settings)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok"},
    }


async def test_readyz_refuses_an_unmigrated_database(plain_settings: Settings) -> None:
    async with serving(create_app(plain_settings)) as client:
        response = await client.get("/readyz", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["checks"] == {"database": "ok", "migrations": "pending"}
    assert body["failed"] == ["migrations"]
    assert body["detail"] == "failed checks: migrations"


async def test_readyz_refuses_an_unreachable_database(
    plain_settings: Settings, log_lines: LogLines
) -> None:
    settings = plain_settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    )
    async with serving(create_app(settings)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["failed"] == ["database", "migrations"]
    assert body["checks"] == {"database": "failed", "migrations": "unknown"}
    assert "127.0.0.1" not in response.text
    assert body["title"] == "服务尚未就绪"
    [logged] = [line for line in log_lines() if line["event"] == "readyz.database_failed"]
    assert logged["request_id"] == response.headers["x-request-id"]


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def test_metrics_label_requests_by_route_template(plain_settings: Settings) -> None:
    app: FastAPI = create_app(plain_settings)
    app.include_router(router)
    async with serving(app) as client:
        before = (await client.get("/metrics")).text
        for thing_id in ("a1", "b2", "c3"):
            assert (await client.get(f"/v1/test/things/{thing_id}")).status_code == 200
        assert (await client.get("/v1/test/unknown/zzz")).status_code == 404
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    name = "ewallet_http_requests_total"
    route = "/v1/test/things/{thing_id}"
    labels = {"method": "GET", "route": route, "status": "200"}
    assert _sample(after, name, **labels) - _sample(before, name, **labels) == 3
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _sample(after, name, **unmatched) - _sample(before, name, **unmatched) == 1
    assert "/v1/test/things/a1" not in after
    assert "zzz" not in after
    count = "ewallet_http_request_duration_seconds_count"
    assert _sample(after, count, method="GET", route=route) >= 3
