"""``/healthz`` (the process answers), ``/readyz`` (it can serve) and ``/metrics``.

Readiness means the database answers and its schema is the one this code was written for:
a process started against an un-migrated database must not receive traffic. The checks say
which part failed but never how (no driver messages leave the process; they are logged).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Final

import structlog
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from ewallet.http.deps import EngineDep, LocaleDep
from ewallet.http.problem import problem_response
from ewallet.kit.db import migrate

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


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
