"""Refuse writes during maintenance: ``503 maintenance`` with ``Retry-After``.

A pure ASGI middleware, so refused requests cost no routing, no body parsing and no
database work, and the check costs no query (the schedule is cached per process, see
:mod:`ewallet.ops.maintenance`). What it lets through, and why:

- reads (GET, HEAD, OPTIONS): the point of a window is that clients keep showing balances
  and history;
- anything outside ``/v1/`` (``/healthz``, ``/readyz``, ``/metrics``, ``/docs``,
  ``/openapi.json``): probes and operators must see the process as it is;
- the staff API (``/v1/staff/...``), so operators can sign in and end a window early;
- :data:`SESSION_UPKEEP`: refreshing and ending a customer's session, so a client already
  signed in keeps reading through a long window instead of being signed out by it.

Everything else under ``/v1`` is a write and is refused, registration and sign-in
included. The refusal's title and detail follow ``Accept-Language``; when the operator
gave the window a message, that message is the detail (in whatever language it was
written). ``Retry-After`` is the whole seconds until the maintenance stretch ends.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Final

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ewallet.http.deps import app_clock, app_engine
from ewallet.http.problem import PROBLEM_CODE_STATE, PROBLEM_MEDIA_TYPE, problem_type
from ewallet.kit import i18n
from ewallet.ops.maintenance import ActiveMaintenance, app_schedule

READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
GUARDED_PREFIX: Final = "/v1/"
STAFF_PREFIX: Final = "/v1/staff/"
SESSION_UPKEEP: Final = frozenset(
    {("POST", "/v1/sessions/refresh"), ("DELETE", "/v1/sessions/current")}
)
CODE: Final = "maintenance"


def is_guarded(method: str, path: str) -> bool:
    """Whether a request of ``method`` on ``path`` is refused while maintenance is on."""
    if method in READ_METHODS or not path.startswith(GUARDED_PREFIX):
        return False
    if path.startswith(STAFF_PREFIX) or path == STAFF_PREFIX.rstrip("/"):
        return False
    return (method, path.rstrip("/") or "/") not in SESSION_UPKEEP


def retry_after_seconds(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def maintenance_response(
    active: ActiveMaintenance, *, now: datetime, locale: i18n.Locale, scope: Scope
) -> JSONResponse:
    retry_after = retry_after_seconds(active.until, now)
    body: dict[str, Any] = {
        "type": problem_type(CODE),
        "title": i18n.title(CODE, locale),
        "status": 503,
        "detail": active.window.message or i18n.detail(CODE, None, locale),
        "code": CODE,
        "retry_after": retry_after,
        "ends_at": active.until.isoformat(),
    }
    scope.setdefault("state", {})[PROBLEM_CODE_STATE] = CODE
    headers = {
        "Retry-After": str(retry_after),
        "Content-Language": locale,
        "Vary": "Accept-Language",
    }
    return JSONResponse(body, status_code=503, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


class MaintenanceMiddleware:
    def __init__(self, app: ASGIApp, *, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app whose state holds engine, clock and schedule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_guarded(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        clock = app_clock(self.owner)
        active = await app_schedule(self.owner).active(app_engine(self.owner), clock)
        if active is None:
            await self.app(scope, receive, send)
            return
        locale = i18n.negotiate_locale(_header(scope, b"accept-language"))
        response = maintenance_response(active, now=clock.now(), locale=locale, scope=scope)
        await response(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def install_maintenance(app: FastAPI) -> None:
    """Enforce maintenance windows; add it inside the request-context middleware."""
    app_schedule(app)
    app.add_middleware(MaintenanceMiddleware, owner=app)
