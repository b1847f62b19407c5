"""``/healthz`` (the process answers), ``/readyz`` (it can serve) and ``/metrics``.

``/metrics`` is for operators: open in development, behind ``EWALLET_METRICS_TOKEN`` (a
bearer token) when one is set, and absent (404) in production without one.

Readiness means the database answers and its schema is the one this code was written for:
a process started against an un-migrated database must not receive traffic. The checks say
which part failed but never how (no driver messages leave the process; they are logged).
"""

from __future__ import annotations

import asyncio
import hmac
from functools import lru_cache
from typing import Final

import structlog
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from ewallet.config import Environment, Settings
from ewallet.http.deps import EngineDep, LocaleDep, SettingsDep
from ewallet.http.problem import problem_response
from ewallet.models import migrate

CHECK_TIMEOUT_SECONDS: Final = 5.0
OK: Final = "ok"

router = APIRouter(tags=["operations"])
log = structlog.get_logger("ewallet.http.health")


@lru_cache(maxsize=1)
def _head_revision() -> str | None:
    # The migration scripts ship with the code: they cannot change while it runs.
    return migrate.head_revision()


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": OK}


@router.get(
    "/readyz",
    summary="The database answers and its schema is current",
    responses={503: {"description": "Not ready: `not_ready` problem naming the failed checks"}},
)
async def readyz(request: Request, engine: EngineDep, locale: LocaleDep) -> Response:
    checks = {"database": "failed", "migrations": "unknown"}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = OK
            current = await migrate.current_revision(engine)
    except Exception:
        log.warning("readyz.database_failed", exc_info=True)
    else:
        head = _head_revision()
        checks["migrations"] = OK if current == head else "pending"
        if current != head:
            log.warning("readyz.migrations_pending", current=current, head=head)
    failed = sorted(name for name, state in checks.items() if state != OK)
    if not failed:
        return JSONResponse({"status": OK, "checks": checks})
    return problem_response(
        code="not_ready",
        status=503,
        locale=locale,
        detail="failed checks: " + ", ".join(failed),
        extra={"checks": checks, "failed": failed},
        scope=request.scope,
    )


def metrics_refusal(settings: Settings, authorization: str | None) -> int | None:
    """Why ``/metrics`` is refused (401 or 404), or None when it may be read.

    With ``EWALLET_METRICS_TOKEN`` set, only ``Authorization: Bearer <token>`` reads it, in
    every environment. Without one it is open in development and absent (404) in production:
    route names, error rates and ledger volumes are for operators, not the internet.
    """
    token = settings.metrics_token
    if token is None:
        return 404 if settings.env is Environment.PRODUCTION else None
    scheme, _, given = (authorization or "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return 401
    return None


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}},
        401: {"description": "`unauthorized`: EWALLET_METRICS_TOKEN is set and not given"},
        404: {"description": "`not_found`: production without EWALLET_METRICS_TOKEN"},
    },
)
async def metrics(request: Request, settings: SettingsDep, locale: LocaleDep) -> Response:
    refused = metrics_refusal(settings, request.headers.get("authorization"))
    if refused == 401:
        return problem_response(
            code="unauthorized",
            status=401,
            locale=locale,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            scope=request.scope,
        )
    if refused is not None:
        return problem_response(code="not_found", status=404, locale=locale, scope=request.scope)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
