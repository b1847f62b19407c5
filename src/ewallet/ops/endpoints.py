"""Maintenance windows: operators schedule and cancel them; anyone may read the schedule.

``GET /v1/maintenance`` is public (clients show a banner before signing in) and answers
from the per-process cache, so polling it costs no query.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from ewallet.http.deps import ServicesDep
from ewallet.ops import service
from ewallet.ops.schemas import MaintenanceStatus, PublicWindowOut, WindowIn, WindowList, WindowOut
from ewallet.ops.views import Window
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import ANY_STAFF, OPERATIONS
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(tags=["operations"])

Operator = Annotated[StaffPrincipal, Depends(require_permission(OPERATIONS))]
AnyStaff = Annotated[StaffPrincipal, Depends(require_permission(ANY_STAFF))]


def _public(window: Window) -> PublicWindowOut:
    return PublicWindowOut(
        id=window.id, starts_at=window.starts_at, ends_at=window.ends_at, message=window.message
    )


@router.post(
    "/v1/staff/maintenance-windows", status_code=201, summary="Schedule a maintenance window"
)
async def create_window(body: WindowIn, staff: Operator, services: ServicesDep) -> WindowOut:
    window = await service.schedule_window(
        services, staff, starts_at=body.starts_at, ends_at=body.ends_at, message=body.message
    )
    return WindowOut(**asdict(window))


@router.get("/v1/staff/maintenance-windows", summary="Windows in force and to come")
async def list_windows(staff: AnyStaff, services: ServicesDep) -> WindowList:
    windows = await service.list_windows(services)
    return WindowList(items=[WindowOut(**asdict(w)) for w in windows])


@router.delete(
    "/v1/staff/maintenance-windows/{window_id}", status_code=204, summary="Cancel a window"
)
async def cancel_window(window_id: str, staff: Operator, services: ServicesDep) -> Response:
    await service.cancel_window(services, staff, window_id=window_id)
    return Response(status_code=204)


@router.get("/v1/maintenance", summary="Maintenance now and to come (public, for banners)")
async def status(services: ServicesDep) -> MaintenanceStatus:
    now = await service.maintenance_now(services)
    active = now.active
    return MaintenanceStatus(
        active=active is not None,
        current=_public(active.window) if active else None,
        until=active.until if active else None,
        upcoming=[_public(w) for w in now.upcoming],
    )
