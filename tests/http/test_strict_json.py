"""Every JSON body of the app: duplicate keys, broken Unicode and unknown fields are refused.

The walk reaches every route with a JSON body (through any depth of included routers) and
sends each defect with no credentials: the strict parser answers ``422 validation_error``
before routing, idempotency or authentication, so nothing is stored, on either backend.
Unknown fields are refused by the schemas; every body schema (and every schema nested in
one) must inherit :class:`RequestModel`, and a signed-in user's calls show the answer.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.idempotency import canonical_body
from ewallet.http.json_body import StrictJsonError, is_json_media_type, strict_loads
from ewallet.kit.db.base import Base
from ewallet.kit.request_model import RequestModel
from tests.fixtures.identity import bearer, running
from tests.fixtures.staff_app import app, client, clock, fast_settings, security

__all__ = ["app", "client", "clock", "fast_settings", "security"]

JSON = {"Content-Type": "application/json"}
# The defects, as raw bytes: json= in httpx would refuse to encode some of them.
DEFECTS: dict[str, tuple[bytes, str]] = {
    "duplicate key": (b'{"amount": "1.00", "amount": "2.00"}', "duplicate_key"),
    "nested duplicate": (b'{"a": [{"b": 1, "b": 1}]}', "duplicate_key"),
    "escaped lone surrogate": (b'{"nickname": "\\ud800"}', "invalid_unicode"),
    "lone surrogate in a key": (b'{"\\udfff": "x"}', "invalid_unicode"),
    "lone surrogate in a list": (b'{"tags": ["ok", "\\ud83d"]}', "invalid_unicode"),
    "surrogate as raw bytes": (b'{"nickname": "\xed\xa0\x80"}', "invalid_unicode"),
    "not UTF-8": (b'{"nickname": "\xff"}', "invalid_unicode"),
}


# The parser on its own.


def test_strict_loads_keeps_what_json_allows() -> None:
    text = '{"a": "😀 \\ud83d\\ude00", "b": [1, 2.5, null, true], "c": {"d": "中文"}}'
    assert strict_loads(text.encode()) == {
        "a": "😀 😀",
        "b": [1, 2.5, None, True],
        "c": {"d": "中文"},
    }
    assert strict_loads(b'[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]  # not duplicates


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_strict_loads_refuses(name: str) -> None:
    body, kind = DEFECTS[name]
    with pytest.raises(StrictJsonError) as caught:
        strict_loads(body)
    assert caught.value.kind == kind


def test_bad_syntax_is_left_to_the_framework() -> None:
    with pytest.raises(json.JSONDecodeError):
        strict_loads(b'{"a": ')


@pytest.mark.parametrize(
    ("content_type", "inspected"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("application/x-www-form-urlencoded", False),
        ("text/plain", False),
        ("multipart/form-data; boundary=x", False),
        (None, False),
    ],
)
def test_json_media_types(content_type: str | None, inspected: bool) -> None:
    assert is_json_media_type(content_type) is inspected


def test_canonical_body_survives_a_lone_surrogate() -> None:
    # The idempotency hash must not crash even on a body the middleware never lets through.
    assert canonical_body(b'{"a": "\\ud800"}') == canonical_body(b'{ "a" : "\\ud800" }')


# Every JSON-body route of the app.


def json_body_routes(app: FastAPI) -> list[tuple[str, str, type[BaseModel]]]:
    found: list[tuple[str, str, type[BaseModel]]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or route.body_field is None or not context.path:
            continue
        model = route.body_field.field_info.annotation
        optional = [arg for arg in typing.get_args(model) if arg is not type(None)]
        if len(optional) == 1:  # an optional body (``Model | None``): its model
            model = optional[0]
        assert isinstance(model, type), context.path
        assert issubclass(model, BaseModel), context.path
        found.extend((method, context.path, model) for method in sorted(context.methods or ()))
    return sorted(found, key=lambda item: (item[1], item[0]))


def nested_models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """``model`` and every model its fields can hold, at any depth."""
    seen: set[type[BaseModel]] = set()
    pending: list[Any] = [model]
    while pending:
        item = pending.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item in seen:
                continue
            seen.add(item)
            yield item
            pending.extend(field.annotation for field in item.model_fields.values())
        elif isinstance(item, types.UnionType) or typing.get_origin(item) is not None:
            pending.extend(typing.get_args(item))


def concrete(path: str) -> str:
    return path.replace("{", "").replace("}", "")


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            result = await connection.execute(select(func.count()).select_from(table))
            counts[table.name] = int(result.scalar_one())
    return counts


def test_the_walk_sees_the_json_routes(app: FastAPI) -> None:
    operations = {(method, path) for method, path, _ in json_body_routes(app)}
    for expected in [
        ("POST", "/v1/transfers"),
        ("POST", "/v1/withdrawals"),
        ("PATCH", "/v1/me"),
        ("POST", "/v1/merchant/orders"),
        ("POST", "/v1/staff/counter-deposits"),
        ("POST", "/v1/support/callbacks"),
        ("POST", "/v1/support/tickets"),
    ]:
        assert expected in operations
    # The PSPs' notifications read their own raw bodies: no schema, not walked here.
    assert not any(path.startswith("/v1/callbacks/") for _, path in operations)


def test_every_body_schema_refuses_unknown_fields(app: FastAPI) -> None:
    lenient = sorted(
        f"{method} {path}: {model.__name__}"
        for method, path, body in json_body_routes(app)
        for model in nested_models(body)
        if not issubclass(model, RequestModel) or model.model_config.get("extra") != "forbid"
    )
    assert lenient == []


async def test_every_json_route_refuses_each_defect_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    routes = json_body_routes(app)
    assert len(routes) > 50
    before = await table_counts(engine)
    wrong: list[str] = []
    for method, path, _ in routes:
        for name, (body, kind) in DEFECTS.items():
            # No Idempotency-Key and no token: the body is refused before either is asked for.
            response = await client.request(
                method, concrete(path), content=body, headers={**JSON, "Accept-Language": "en"}
            )
            problem = response.json()
            if (
                response.status_code != 422
                or problem.get("code") != "validation_error"
                or [error["type"] for error in problem.get("errors", [])] != [kind]
                or response.headers["content-type"] != "application/problem+json"
            ):
                wrong.append(f"{method} {path} ({name}): {response.status_code} {problem}")
            # Never an echo of the offending text.
            assert b"\\ud8" not in response.content
            assert b"\\udf" not in response.content
    assert wrong == []
    assert await table_counts(engine) == before


async def test_psp_notifications_are_not_inspected(client: httpx.AsyncClient) -> None:
    # WeChat Pay's endpoint answers in its own format, whatever the body holds.
    response = await client.post(
        "/v1/callbacks/wechat-pay", content=DEFECTS["duplicate key"][0], headers=JSON
    )
    assert response.status_code != 422 or "validation_error" not in response.text


async def test_a_signed_in_users_unknown_fields_and_defects_change_nothing(
    fast_settings: Settings,
) -> None:
    async with running(fast_settings) as wallet:
        registered = await wallet.register()
        headers = {**bearer(registered["tokens"]["access_token"]), "Idempotency-Key": "k-1"}
        before = await table_counts(wallet.engine)
        me = await wallet.client.get("/v1/me", headers=headers)
        for body in (
            {"nickname": "小明", "role": "admin"},
            {"nickname": "小明", "nick_name": "x"},
        ):
            response = await wallet.client.patch("/v1/me", json=body, headers=headers)
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "validation_error"
            assert "extra_forbidden" in {e["type"] for e in response.json()["errors"]}
        response = await wallet.client.post(
            "/v1/transfers",
            json={
                "to_phone": "13900001111",
                "amount": "1.00",
                "payment_password": "135790",
                "amonut": "2.00",
            },
            headers=headers,
        )
        assert response.status_code == 422, response.text
        assert "extra_forbidden" in {e["type"] for e in response.json()["errors"]}
        for raw in (b'{"nickname": "\\ud800"}', b'{"nickname": "a", "nickname": "b"}'):
            response = await wallet.client.patch("/v1/me", content=raw, headers={**headers, **JSON})
            assert response.status_code == 422, response.text
        assert (await wallet.client.get("/v1/me", headers=headers)).json() == me.json()
        assert await table_counts(wallet.engine) == before
        ok = await wallet.client.patch("/v1/me", json={"nickname": "小明"}, headers=headers)
        assert ok.status_code == 200, ok.text
