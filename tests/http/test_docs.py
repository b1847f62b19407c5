"""The interactive docs work offline, and the OpenAPI document describes every error answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.openapi.problems import status_of_codes
from ewallet.openapi.route_codes import ROUTE_CODES
from tests.fixtures.serving import serving


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


# The problem answers each operation documents (ewallet.openapi.problems).


def _document(settings: Settings) -> dict[str, Any]:
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def _statuses(document: dict[str, Any], key: str) -> set[int]:
    method, path = key.split(" ", 1)
    return {int(status) for status in document["paths"][path][method.lower()]["responses"]}


def test_every_error_answer_is_a_documented_problem(plain_settings: Settings) -> None:
    document = _document(plain_settings)
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert {"errors", "retry_after", "remaining_attempts", "challenge_id"} <= set(
        problem["properties"]
    )
    # FastAPI's own validation error, as application/json, is gone.
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = dict(_operations(document))
    assert len(operations) > 100
    for key, operation in operations.items():
        errors = {k: v for k, v in operation["responses"].items() if int(k) >= 400}
        assert "500" in errors, key
        for status, response in errors.items():
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (key, status)
            assert "`" in response["description"], (key, status)  # the codes are named


def test_statuses_follow_from_what_a_route_depends_on(plain_settings: Settings) -> None:
    document = _document(plain_settings)
    # Public, no parameters: only the unexpected.
    assert _statuses(document, "GET /v1/help/contact") == {200, 500}
    # A signed-in user's read; a path parameter adds 404 and 422.
    assert _statuses(document, "GET /v1/me") == {200, 401, 403, 500}
    assert {401, 403, 404, 422} <= _statuses(document, "GET /v1/transfers/{transfer_id}")
    # Idempotent, payment password, maintenance guard and the use case's own refusals.
    transfer = _statuses(document, "POST /v1/transfers")
    assert {400, 401, 402, 403, 404, 409, 422, 423, 503} <= transfer
    # Staff routes behind a role check may ask for the one-time password to be changed.
    staff = document["paths"]["/v1/staff/maintenance-windows"]["post"]["responses"]
    assert "password_change_required" in staff["403"]["description"]
    assert 503 not in _statuses(document, "POST /v1/staff/maintenance-windows")  # not guarded
    # A description the route gave itself is kept, with the codes added.
    ready = document["paths"]["/readyz"]["get"]["responses"]["503"]
    assert ready["description"].startswith("Not ready")


def test_route_codes_name_real_operations_and_known_codes(plain_settings: Settings) -> None:
    document = _document(plain_settings)
    operations = dict(_operations(document))
    known = status_of_codes()
    for key, codes in ROUTE_CODES.items():
        assert key in operations, f"ROUTE_CODES names no operation: {key}"
        for code in codes:
            assert code in known, f"{key}: unknown problem code {code}"
            assert known[code] in _statuses(document, key), (key, code)


def test_the_document_is_described_once(plain_settings: Settings) -> None:
    app = create_app(plain_settings)
    first = app.openapi()
    assert app.openapi() is first
    assert first["paths"]["/v1/me"]["get"]["responses"]["401"]["description"] == "`unauthorized`"
