"""``/v1/staff/risk/watchlist``: the screening hits risk officers review, and the loads.

Risk officers (admins pass) list the hits, clear or confirm an open one with a note (the
service audits it; a second decision is ``409 conflict``) and list the list's loads.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.models.operations import StaffRole
from ewallet.models.risk_watchlist import HitState
from ewallet.risk.watchlist import service
from ewallet.risk.watchlist.schemas import (
    HitDecisionIn,
    WatchlistHitOut,
    WatchlistHitPage,
    WatchlistLoadOut,
    WatchlistLoadPage,
)
from ewallet.staff.deps import require_roles
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff/risk/watchlist", tags=["staff", "risk"])
RiskOfficer = Annotated[StaffPrincipal, Depends(require_roles(StaffRole.RISK_OFFICER))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200)]


@router.get("/hits", summary="Watch-list hits newest first, by state")
async def list_hits(
    *,
    staff: RiskOfficer,
    services: ServicesDep,
    state: Literal["open", "cleared", "confirmed"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> WatchlistHitPage:
    page = await service.list_hits(
        services, state=None if state is None else HitState(state), limit=limit, cursor=cursor
    )
    return WatchlistHitPage(
        items=[WatchlistHitOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )


@router.post("/hits/{hit_id}/clear", summary="Clear an open hit: not the listed person")
async def clear_hit(
    hit_id: str, body: HitDecisionIn, staff: RiskOfficer, services: ServicesDep
) -> WatchlistHitOut:
    view = await service.decide_hit(
        services, staff.actor(), hit_id=hit_id, state=HitState.CLEARED, note=body.note
    )
    return WatchlistHitOut.of(view)


@router.post("/hits/{hit_id}/confirm", summary="Confirm an open hit: the listed person")
async def confirm_hit(
    hit_id: str, body: HitDecisionIn, staff: RiskOfficer, services: ServicesDep
) -> WatchlistHitOut:
    view = await service.decide_hit(
        services, staff.actor(), hit_id=hit_id, state=HitState.CONFIRMED, note=body.note
    )
    return WatchlistHitOut.of(view)


@router.get("/loads", summary="Watch-list loads newest first")
async def list_loads(
    *,
    staff: RiskOfficer,
    services: ServicesDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> WatchlistLoadPage:
    page = await service.list_loads(services, limit=limit, cursor=cursor)
    return WatchlistLoadPage(
        items=[WatchlistLoadOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )
