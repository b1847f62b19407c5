"""Request ids in and out of every response, and one access log line per request."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.middleware import route_template, sane_request_id
from tests.fixtures.serving import LogLines, serving


class Note(BaseModel):
    text: str


router = APIRouter()


@router.post("/v1/test/notes/{note_id}")
async def save_note(note_id: str, body: Note) -> dict[str, str]:
    return {"id": note_id}


@pytest.fixture
def app(plain_settings: Settings) -> FastAPI:
    app = create_app(plain_settings)
    app.include_router(router)
    return app


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("abc-123_X.y", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("", False),
        ("has space", False),
        ("semi;colon", False),
        ("中文", False),
        (None, False),
    ],
)
def test_sane_request_id(incoming: str | None, kept: bool) -> None:
    assert sane_request_id(incoming) == (incoming if kept else None)


def test_route_template_without_a_route_is_unmatched() -> None:
    assert route_template({"type": "http"}) == "unmatched"


async def test_route_templates_include_router_prefixes_and_mounts(
    plain_settings: Settings, log_lines: LogLines
) -> None:
    inner = APIRouter(prefix="/widgets")

    @inner.get("/{widget_id}")
    async def get_widget(widget_id: str) -> dict[str, str]:
        return {"id": widget_id}

    outer = APIRouter()
    outer.include_router(inner)
    app = create_app(plain_settings)
    app.include_router(outer, prefix="/v1")
    async with serving(app) as client:
        assert (await client.get("/v1/widgets/w-1")).status_code == 200
        assert (await client.delete("/v1/widgets/w-1")).status_code == 405
        assert (await client.get("/docs/static/swagger-ui.css")).status_code == 200
        assert (await client.get("/docs/static/missing.js")).status_code == 404
        assert (await client.get("/v1/nowhere/t-1")).status_code == 404
    routes = [
        (line["method"], line["route"], line["status"])
        for line in log_lines()
        if line["event"] == "http.request"
    ]
    assert routes == [
        ("GET", "/v1/widgets/{widget_id}", 200),
        ("DELETE", "/v1/widgets/{widget_id}", 405),
        ("GET", "/docs/static/{path}", 200),
        ("GET", "/docs/static/{path}", 404),
        ("GET", "unmatched", 404),
    ]


async def test_sane_incoming_request_id_is_echoed(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.get("/healthz", headers={"X-Request-ID": "client.id-42"})
    assert response.headers["x-request-id"] == "client.id-42"


async def test_insane_request_id_is_replaced(app: FastAPI) -> None:
    async with serving(app) as client:
        long = await client.get("/healthz", headers={"X-Request-ID": "x" * 200})
        odd = await client.get("/healthz", headers={"X-Request-ID": "a b<script>"})
        none = await client.get("/healthz")
    ids = [r.headers["x-request-id"] for r in (long, odd, none)]
    assert all(i.startswith("req_") and len(i) == 30 for i in ids)
    assert len(set(ids)) == 3


async def test_errors_carry_the_request_id(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.get("/nope", headers={"X-Request-ID": "r-404"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "r-404"


async def test_one_access_line_per_request_with_route_template_and_no_body(
    app: FastAPI, log_lines: LogLines
) -> None:
    async with serving(app) as client:
        response = await client.post(
            "/v1/test/notes/n-77?phone=13812345678",
            json={"text": "secret note 6222021234567890"},
            headers={"X-Request-ID": "r-access"},
        )
    assert response.status_code == 200
    lines = log_lines()
    [access] = [line for line in lines if line["event"] == "http.request"]
    assert access["method"] == "POST"
    assert access["route"] == "/v1/test/notes/{note_id}"
    assert access["path"] == "/v1/test/notes/n-77"
    assert access["status"] == 200
    assert access["request_id"] == "r-access"
    assert isinstance(access["duration_ms"], float)
    assert access["duration_ms"] >= 0
    assert "code" not in access
    everything = "\n".join(str(line) for line in lines)
    assert "secret note" not in everything
    assert "13812345678" not in everything
