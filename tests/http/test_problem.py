"""Every error leaves as one problem+json shape, in the caller's language, with a request id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.problem import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from ewallet.kit.errors import DomainError, MaintenanceError, RateLimitedError
from tests.fixtures.serving import LogLines, serving


class PinInvalidError(DomainError):
    code = "payment_password_invalid"
    status = 403


class Signup(BaseModel):
    phone: str
    login_password: str
    age: int


router = APIRouter()


@router.get("/v1/test/pin")
async def wrong_pin() -> None:
    raise PinInvalidError("wrong payment password", remaining_attempts=2, code="hijack")


@router.get("/v1/test/rate")
async def rate_limited() -> None:
    raise RateLimitedError(retry_after=30)


@router.get("/v1/test/maintenance")
async def maintenance() -> None:
    raise MaintenanceError("window until 02:00", retry_after=timedelta(minutes=5))


@router.post("/v1/test/signup")
async def signup(body: Signup) -> dict[str, str]:
    return {"phone": body.phone}


@router.get("/v1/test/crash")
async def crash() -> None:
    raise RuntimeError("secret internals: dsn=postgresql://admin:hunter2@db")


@pytest.fixture
def app(plain_settings: Settings) -> FastAPI:
    app = create_app(plain_settings)
    app.include_router(router)
    return app


def _is_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["x-request-id"]
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_TYPE_BASE + code
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body


async def test_domain_error_in_chinese_by_default(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.get("/v1/test/pin")
    body = _is_problem(response, 403, "payment_password_invalid")
    assert body == {
        "type": PROBLEM_TYPE_BASE + "payment_password_invalid",
        "title": "支付密码错误",
        "status": 403,
        # A zh-CN reader gets our Chinese sentence for the code, not the English detail.
        "detail": "支付密码不正确，连续输错 3 次将被锁定 3 小时。",
        "code": "payment_password_invalid",
        "remaining_attempts": 2,
    }
    assert response.headers["content-language"] == "zh-CN"


async def test_domain_error_in_english_when_asked(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.get("/v1/test/pin", headers={"Accept-Language": "fr, en-GB;q=0.8"})
    body = _is_problem(response, 403, "payment_password_invalid")
    assert body["title"] == "The payment password is wrong"
    assert body["detail"] == "wrong payment password"
    assert response.headers["content-language"] == "en"


async def test_retry_after_header_from_extra(app: FastAPI) -> None:
    async with serving(app) as client:
        rate = await client.get("/v1/test/rate")
        window = await client.get("/v1/test/maintenance", headers={"Accept-Language": "en"})
    assert _is_problem(rate, 429, "rate_limited")["retry_after"] == 30
    assert rate.headers["retry-after"] == "30"
    body = _is_problem(window, 503, "maintenance")
    assert body["retry_after"] == 300
    assert body["detail"] == "window until 02:00"
    assert window.headers["retry-after"] == "300"


async def test_validation_error_lists_fields_without_echoing_input(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.post(
            "/v1/test/signup", json={"login_password": "hunter2-secret", "age": "old"}
        )
    body = _is_problem(response, 422, "validation_error")
    locations = sorted(tuple(error["loc"]) for error in body["errors"])
    assert locations == [("body", "age"), ("body", "phone")]
    assert all(error["msg"] for error in body["errors"])
    assert all(set(error) == {"loc", "msg", "type"} for error in body["errors"])
    assert "hunter2-secret" not in response.text


async def test_malformed_json_is_a_validation_error(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.post(
            "/v1/test/signup", content=b"{not json", headers={"content-type": "application/json"}
        )
    body = _is_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"][0] == "body"


async def test_unknown_path_is_not_found(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.get("/v1/nothing-here", headers={"Accept-Language": "en"})
    body = _is_problem(response, 404, "not_found")
    assert body["title"] == "Not found"


async def test_wrong_method_is_method_not_allowed(app: FastAPI) -> None:
    async with serving(app) as client:
        response = await client.delete("/v1/test/pin")
    _is_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


async def test_unexpected_exception_is_a_bare_500_logged_with_request_id(
    app: FastAPI, log_lines: LogLines
) -> None:
    async with serving(app) as client:
        response = await client.get("/v1/test/crash", headers={"X-Request-ID": "trace-500"})
    body = _is_problem(response, 500, "internal_error")
    assert response.headers["x-request-id"] == "trace-500"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    [error] = [line for line in log_lines() if line["event"] == "http.unhandled_exception"]
    assert error["request_id"] == "trace-500"
    assert "RuntimeError: secret internals" in error["exception"]
    [access] = [line for line in log_lines() if line["event"] == "http.request"]
    assert access["status"] == 500
    assert access["code"] == "internal_error"
    assert access["request_id"] == "trace-500"
    assert body["title"] == "系统繁忙"
