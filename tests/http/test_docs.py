"""The interactive docs work offline: no URL outside the app, every asset served."""

from __future__ import annotations

import re

from ewallet.app import create_app
from ewallet.config import Settings
from tests.http.conftest import serving


async def test_docs_page_uses_only_local_assets(plain_settings: Settings) -> None:
    async with serving(create_app(plain_settings)) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert not re.search(r"https?://", page.text)
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sorted(assets) == [
            "/docs/static/favicon-32x32.png",
            "/docs/static/swagger-ui-bundle.js",
            "/docs/static/swagger-ui.css",
        ]
        for asset in assets:
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 0
        assert "url: '/openapi.json'" in page.text


async def test_openapi_document_and_no_cdn_docs(plain_settings: Settings) -> None:
    async with serving(create_app(plain_settings)) as client:
        openapi = await client.get("/openapi.json")
        redoc = await client.get("/redoc")
    assert openapi.status_code == 200
    document = openapi.json()
    assert document["openapi"].startswith("3.1")
    assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"])
    assert "/docs" not in document["paths"]
    assert redoc.status_code == 404


async def test_bundled_swagger_ui_reads_openapi_31(plain_settings: Settings) -> None:
    # Swagger UI 4 refuses "openapi: 3.1.x" documents, which FastAPI writes.
    async with serving(create_app(plain_settings)) as client:
        bundle = await client.get("/docs/static/swagger-ui-bundle.js")
    assert "OpenAPI 3.1" in bundle.text or "isOAS31" in bundle.text
