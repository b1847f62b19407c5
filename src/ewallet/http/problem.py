"""Errors as RFC 9457 problem documents, mapped once, here, at the edge.

Every error answer has the same shape: ``type``, ``title``, ``status``, ``detail`` and
``code`` (the stable API.md string clients switch on), plus the error's extra members
(``retry_after``, ``remaining_attempts`` ...). Titles follow ``Accept-Language`` through
:mod:`ewallet.kit.i18n`. Services raise :class:`~ewallet.kit.errors.DomainError`; nothing
below the edge builds an HTTP response for an error.
"""

from __future__ import annotations

import math
from datetime import timedelta
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from ewallet.http.deps import get_locale
from ewallet.kit import i18n
from ewallet.kit.errors import DomainError

PROBLEM_TYPE_BASE: Final = "https://ewallet.dev/problems/"
PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
_STANDARD_MEMBERS: Final = frozenset({"type", "title", "status", "detail", "code"})

# Keys in the request's scope["state"], read by the middlewares after the response.
PROBLEM_CODE_STATE: Final = "ewallet.problem_code"
REJECTED_STATE: Final = "ewallet.request_rejected"

# Codes for framework HTTP errors (routing, body limits); other 4xx are bad_request.
_HTTP_STATUS_CODES: Final[dict[int, str]] = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


def problem_type(code: str) -> str:
    """The ``type`` URI of a problem ``code``."""
    return PROBLEM_TYPE_BASE + code


def problem_response(
    *,
    code: str,
    status: int,
    locale: i18n.Locale,
    detail: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    scope: Scope | None = None,
) -> JSONResponse:
    """A problem+json response; ``extra`` never overrides the five standard members.

    A ``retry_after`` member (seconds) is also sent as the ``Retry-After`` header, which
    clients and proxies honour for 429 and 503 and which does no harm elsewhere.
    """
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": i18n.title(code, locale),
        "status": status,
        "detail": i18n.detail(code, detail, locale),
        "code": code,
    }
    members = {k: v for k, v in (extra or {}).items() if k not in _STANDARD_MEMBERS}
    if isinstance(members.get("errors"), list):
        members["errors"] = [_field_error(error, locale) for error in members["errors"]]
    body.update(jsonable_encoder(members))
    all_headers = {"Content-Language": locale, "Vary": "Accept-Language", **(headers or {})}
    retry_after = members.get("retry_after")
    if retry_after is not None:
        all_headers.setdefault("Retry-After", str(_seconds(retry_after)))
    if scope is not None:
        scope.setdefault("state", {})[PROBLEM_CODE_STATE] = code
    return JSONResponse(
        body, status_code=status, headers=all_headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _field_error(error: Any, locale: i18n.Locale) -> Any:
    """One entry of ``errors`` with its ``msg`` in the reader's language (the validators
    word theirs in English)."""
    if not isinstance(error, dict) or "msg" not in error:
        return error
    message = i18n.field_message(str(error.get("type")), str(error["msg"]), locale)
    return {**error, "msg": message}


def _seconds(value: Any) -> int:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    try:
        return max(0, math.ceil(float(value)))
    except (TypeError, ValueError):
        return 1


def domain_error_response(error: DomainError, request: Request) -> JSONResponse:
    return problem_response(
        code=error.code,
        status=error.status,
        locale=get_locale(request),
        detail=error.detail,
        extra=error.extra,
        scope=request.scope,
    )


def internal_error_response(scope: Scope, locale: i18n.Locale) -> JSONResponse:
    """The answer to an unexpected exception: nothing about its cause leaves the process."""
    return problem_response(code="internal_error", status=500, locale=locale, scope=scope)


def mark_rejected(request: Request) -> None:
    """Record that the request was refused before its endpoint ran (e.g. a malformed body)."""
    request.scope.setdefault("state", {})[REJECTED_STATE] = True


def was_rejected(scope: Scope) -> bool:
    return bool(scope.get("state", {}).get(REJECTED_STATE, False))


async def _domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_error_response(exc, request)


async def _validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    mark_rejected(request)
    # Only where and what: the offending input may be a password or a card number.
    errors = [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]
    return problem_response(
        code="validation_error",
        status=422,
        locale=get_locale(request),
        extra={"errors": errors},
        scope=request.scope,
    )


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status < 400:
        return Response(status_code=status, headers=exc.headers)
    code = _HTTP_STATUS_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail == _phrase(status):
        detail = None  # the framework's stock phrase says less than our catalog
    return problem_response(
        code=code,
        status=status,
        locale=get_locale(request),
        detail=detail,
        headers=dict(exc.headers or {}),
        scope=request.scope,
    )


def _phrase(status: int) -> str | None:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors, request validation and routing errors to problem documents.

    Unexpected exceptions are answered by :class:`ewallet.http.middleware.RequestContextMiddleware`,
    which also logs them with the request id.
    """
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
