"""``/v1/staff/phone-changes``: the queue of reviewed phone changes, one request, approve
and reject with a note (support agents and risk officers, the ``ACCOUNT_GUARD`` work;
docs/account-lifecycle.md). The rules are
:mod:`ewallet.identity.phone_change.service`'s; each decision is audited there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from ewallet.http.deps import ServicesDep
from ewallet.identity.phone_change import service
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from ewallet.models.phone_change import PhoneChangeState
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import ACCOUNT_GUARD
from ewallet.staff.phone_changes.schemas import (
    DecisionNoteIn,
    PhoneChangeEnvelope,
    PhoneChangeOut,
    PhoneChangePage,
)
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(prefix="/v1/staff/phone-changes", tags=["staff"])
AccountGuard = Annotated[StaffPrincipal, Depends(require_permission(ACCOUNT_GUARD))]
RequestId = Annotated[str, Path(max_length=32)]


@router.get("", summary="Phone change requests in a state, oldest first")
async def list_phone_changes(
    *,
    staff: AccountGuard,
    services: ServicesDep,
    state: PhoneChangeState = PhoneChangeState.PENDING,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PhoneChangePage:
    page = await service.list_requests(services, state=state, limit=limit, cursor=cursor)
    return PhoneChangePage(
        items=[PhoneChangeOut.of(item) for item in page.items], next_cursor=page.next_cursor
    )


@router.get("/{request_id}", summary="One phone change request")
async def get_phone_change(
    request_id: RequestId, staff: AccountGuard, services: ServicesDep
) -> PhoneChangeEnvelope:
    view = await service.get_request(services, request_id=request_id)
    return PhoneChangeEnvelope(request=PhoneChangeOut.of(view))


@router.post("/{request_id}/approve", summary="Approve: the number changes, once")
async def approve_phone_change(
    request_id: RequestId, body: DecisionNoteIn, staff: AccountGuard, services: ServicesDep
) -> PhoneChangeEnvelope:
    view = await service.approve_request(
        services,
        staff_id=staff.staff_id,
        actor=staff.actor(),
        request_id=request_id,
        note=body.note,
    )
    return PhoneChangeEnvelope(request=PhoneChangeOut.of(view))


@router.post("/{request_id}/reject", summary="Reject: the number stays, the owner is told")
async def reject_phone_change(
    request_id: RequestId, body: DecisionNoteIn, staff: AccountGuard, services: ServicesDep
) -> PhoneChangeEnvelope:
    view = await service.reject_request(
        services,
        staff_id=staff.staff_id,
        actor=staff.actor(),
        request_id=request_id,
        note=body.note,
    )
    return PhoneChangeEnvelope(request=PhoneChangeOut.of(view))
