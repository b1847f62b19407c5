"""Staff reconciliation API: run a day, list runs, read a run's findings.

Operators (and admins) run it; risk officers read it too. A run from here includes the PSP
records (this process holds the PSP channels, sandboxes included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ewallet.http.deps import ClockDep, EngineDep, LedgerDep, SettingsDep
from ewallet.integrations.bank.wiring import gateway_from_app
from ewallet.reconciliation.runner import Reconciliation
from ewallet.reconciliation.schemas import ItemOut, RunDetail, RunIn, RunList, RunOut
from ewallet.reconciliation.store import get_run, list_runs
from ewallet.staff.deps import require_roles
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(tags=["reconciliation"])

Operator = Annotated[StaffPrincipal, Depends(require_roles("operator"))]
Reader = Annotated[StaffPrincipal, Depends(require_roles("operator", "risk_officer"))]


@router.post(
    "/v1/staff/reconciliation-runs", status_code=201, summary="Reconcile a business day now"
)
async def run_reconciliation(
    *,
    body: RunIn,
    request: Request,
    staff: Operator,
    engine: EngineDep,
    ledger: LedgerDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> RunOut:
    reconciliation = Reconciliation(
        engine=engine,
        ledger=ledger,
        clock=clock,
        gateway=gateway_from_app(request.app),
        psp=request.app.state.psp,
        grace=timedelta(seconds=settings.bank_unknown_grace_seconds),
    )
    view = await reconciliation.run(body.date, actor=staff.actor())
    return RunOut(**asdict(view))


@router.get("/v1/staff/reconciliation-runs", summary="Reconciliation runs, newest first")
async def runs(
    staff: Reader,
    engine: EngineDep,
    date: Annotated[dt.date | None, Query(description="Only runs of this business day")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RunList:
    views = await list_runs(engine, day=date, limit=limit)
    return RunList(items=[RunOut(**asdict(view)) for view in views])


@router.get("/v1/staff/reconciliation-runs/{run_id}", summary="A run and its findings")
async def run_detail(run_id: str, staff: Reader, engine: EngineDep) -> RunDetail:
    view, found = await get_run(engine, run_id)
    return RunDetail(run=RunOut(**asdict(view)), items=[ItemOut.of(row) for row in found])
