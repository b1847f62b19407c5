"""The outermost layer of every HTTP request: request id, access log, metrics, last-resort 500.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so it adds no task hop per request and
the request id it binds into structlog's context variables is seen by every log line of the
request, down to the database layer. It is also where unexpected exceptions end: they are
logged with their traceback and answered with a bare ``internal_error`` problem, so the
cause never leaks to the client and the server does not log it a second time unformatted.
"""

from __future__ import annotations

import re
import time
from typing import Final

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ewallet.http.problem import PROBLEM_CODE_STATE, internal_error_response
from ewallet.kit import i18n
from ewallet.kit.ids import new_id
from ewallet.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS

REQUEST_ID_HEADER: Final = "X-Request-ID"
REQUEST_ID_STATE: Final = "request_id"
UNMATCHED_ROUTE: Final = "unmatched"
_SANE_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Anything else is counted as "other" so a scanner cannot grow the metric's label set.
_KNOWN_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

log = structlog.get_logger("ewallet.http")


def sane_request_id(value: str | None) -> str | None:
    """``value`` if it can be echoed and logged safely, else None."""
    if value is not None and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


def route_template(scope: Scope) -> str:
    """The matched route's full template (``/v1/topups/{id}``), or ``unmatched``.

    FastAPI (0.12x+) keeps included routers nested: ``scope["route"]`` is the route as
    declared, without the ``include_router`` prefixes, and the full template lives in the
    request's effective route context. Mounted apps (the docs' static files) set no route;
    their mount path is the part of ``root_path`` they added. A test pins all three cases,
    so a FastAPI upgrade that moves these cannot silently break the metric labels.
    """
    fastapi_state = scope.get("fastapi")
    context = (
        fastapi_state.get("effective_route_context") if isinstance(fastapi_state, dict) else None
    )
    for source in (context, scope.get("route")):
        template = getattr(source, "path_format", None)
        if isinstance(template, str) and template:
            return template
    mounted = str(scope.get("root_path", ""))[len(str(scope.get("app_root_path", ""))) :]
    if "app_root_path" in scope and mounted:
        return mounted + "/{path}"
    return UNMATCHED_ROUTE


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class RequestContextMiddleware:
    """Request id in and out, one access log line and two metrics per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = sane_request_id(_header(scope, b"x-request-id")) or new_id("req")
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self._handle(scope, receive, send, request_id)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("http.unhandled_exception", method=scope["method"], path=scope["path"])
            if started:
                raise
            locale = i18n.negotiate_locale(_header(scope, b"accept-language"))
            await internal_error_response(scope, locale)(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - began)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "other"
        route = route_template(scope)
        HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
        HTTP_LATENCY.labels(method=method, route=route).observe(seconds)
        # Never the body, never the query string: both may carry personal data.
        fields = {
            "method": scope["method"],
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        code = scope.get("state", {}).get(PROBLEM_CODE_STATE)
        if code is not None:
            fields["code"] = code
        if status >= 500:
            log.error("http.request", **fields)
        else:
            log.info("http.request", **fields)
