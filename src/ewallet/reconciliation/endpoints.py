"""Staff reconciliation API: run a day, list runs, read a run's findings.

Operators (and admins) run it; risk officers read it too. A run from here includes the PSP
records (this process holds the PSP channels, sandboxes included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ewallet.http.deps import ServicesDep
from ewallet.reconciliation import service
from ewallet.reconciliation.schemas import ItemOut, RunDetail, RunIn, RunList, RunOut
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import OPERATIONS, RECONCILIATION_READING
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(tags=["reconciliation"])

Operator = Annotated[StaffPrincipal, Depends(require_permission(OPERATIONS))]
Reader = Annotated[StaffPrincipal, Depends(require_permission(RECONCILIATION_READING))]


@router.post(
    "/v1/staff/reconciliation-runs", status_code=201, summary="Reconcile a business day now"
)
async def run_reconciliation(body: RunIn, staff: Operator, services: ServicesDep) -> RunOut:
    view = await service.run_reconciliation(services, staff.actor(), day=body.date)
    return RunOut(**asdict(view))


@router.get("/v1/staff/reconciliation-runs", summary="Reconciliation runs, newest first")
async def runs(
    staff: Reader,
    services: ServicesDep,
    date: Annotated[dt.date | None, Query(description="Only runs of this business day")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RunList:
    views = await service.list_runs(services, staff.actor(), day=date, limit=limit)
    return RunList(items=[RunOut(**asdict(view)) for view in views])


@router.get("/v1/staff/reconciliation-runs/{run_id}", summary="A run and its findings")
async def run_detail(run_id: str, staff: Reader, services: ServicesDep) -> RunDetail:
    view, found = await service.get_run(services, staff.actor(), run_id=run_id)
    return RunDetail(run=RunOut(**asdict(view)), items=[ItemOut.of(item) for item in found])
