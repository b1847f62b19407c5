"""Call-backs for customers (``/v1/support/callbacks``) and the hotline desk for agents."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ewallet.callbacks import service
from ewallet.callbacks.schemas import (
    CallbackDoneIn,
    CallbackEnvelope,
    CallbackIn,
    CallbackList,
    CallbackOut,
    PhoneCallIn,
    PhoneCallOut,
    StaffCallbackList,
    StaffCallbackOut,
)
from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.staff.deps import require_permission
from ewallet.staff.permissions import SUPPORT
from ewallet.staff.principal import StaffPrincipal

router = APIRouter(tags=["hotline"])
Agent = Annotated[StaffPrincipal, Depends(require_permission(SUPPORT))]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.post("/v1/support/callbacks", status_code=201, summary="Ask to be called back")
async def request_callback(
    body: CallbackIn, user: CurrentUser, services: ServicesDep
) -> CallbackEnvelope:
    view = await service.request_callback(
        services,
        user.user_id,
        preferred_from=body.preferred_from,
        preferred_to=body.preferred_to,
        topic=body.topic,
        phone=body.phone,
    )
    return CallbackEnvelope(callback=CallbackOut.of(view))


@router.get("/v1/support/callbacks", summary="The customer's call-back requests, newest first")
async def my_callbacks(
    user: CurrentUser, services: ServicesDep, limit: Limit = DEFAULT_LIMIT
) -> CallbackList:
    views = await service.my_callbacks(services, user.user_id, limit=limit)
    return CallbackList(items=[CallbackOut.of(view) for view in views])


@router.post("/v1/support/callbacks/{callback_id}/cancel", summary="Cancel a call-back request")
async def cancel_callback(
    callback_id: str, user: CurrentUser, services: ServicesDep
) -> CallbackEnvelope:
    view = await service.cancel_callback(services, user.user_id, callback_id=callback_id)
    return CallbackEnvelope(callback=CallbackOut.of(view))


@router.get("/v1/staff/support/callbacks", summary="Call-backs due soon, earliest first")
async def due_callbacks(
    staff: Agent,
    services: ServicesDep,
    within_minutes: Annotated[int, Query(ge=0, le=60 * 24 * 14)] = 60,
    limit: Limit = DEFAULT_LIMIT,
) -> StaffCallbackList:
    views = await service.due_callbacks(
        services, staff.actor(), within=timedelta(minutes=within_minutes), limit=limit
    )
    return StaffCallbackList(items=[StaffCallbackOut.staff(view) for view in views])


@router.post("/v1/staff/support/callbacks/{callback_id}/done", summary="Mark a call-back done")
async def complete_callback(
    callback_id: str, body: CallbackDoneIn, staff: Agent, services: ServicesDep
) -> StaffCallbackOut:
    view = await service.complete_callback(
        services, staff.actor(), callback_id=callback_id, outcome=body.outcome
    )
    return StaffCallbackOut.staff(view)


@router.post("/v1/staff/support/calls", status_code=201, summary="Log a phone call as a ticket")
async def log_call(body: PhoneCallIn, staff: Agent, services: ServicesDep) -> PhoneCallOut:
    logged = await service.log_call(
        services,
        staff.actor(),
        phone=body.phone,
        summary=body.summary,
        category=body.category,
        outcome=body.outcome,
    )
    return PhoneCallOut(ticket_id=logged.ticket_id, user_id=logged.user_id)
