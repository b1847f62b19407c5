"""The owner's phone-change routes under ``/v1/me`` (the staff's review is
:mod:`ewallet.staff.phone_changes.endpoints`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from ewallet.http.deps import ServicesDep
from ewallet.identity.codes.schemas import CodeSentOut
from ewallet.identity.deps import CurrentUser, user_actor
from ewallet.identity.phone_change import service
from ewallet.identity.phone_change.schemas import (
    NewNumberCodeIn,
    PhoneChangedOut,
    PhoneChangeIn,
    PhoneChangeRequestEnvelope,
    PhoneChangeRequestIn,
    PhoneChangeRequestList,
    PhoneChangeRequestOut,
)
from ewallet.identity.runtime import CallerDep
from ewallet.kit.phone import mask_phone

router = APIRouter(prefix="/v1/me", tags=["account security"])
RequestId = Annotated[str, Path(max_length=32)]


@router.post(
    "/phone-change/old-number-code",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Text a code to the account's current number (changing it)",
)
async def post_old_number_code(
    request: Request, user: CurrentUser, services: ServicesDep, caller: CallerDep
) -> CodeSentOut:
    sent = await service.send_old_number_code(
        services, caller=caller, user_id=user.user_id, actor=user_actor(request, user)
    )
    return CodeSentOut(expires_in=sent.expires_in, resend_after=sent.resend_after)


@router.post(
    "/phone-change/new-number-code",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Text a code to the new number",
)
async def post_new_number_code(
    body: NewNumberCodeIn,
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
    caller: CallerDep,
) -> CodeSentOut:
    sent = await service.send_new_number_code(
        services,
        caller=caller,
        user_id=user.user_id,
        new_phone=body.new_phone,
        actor=user_actor(request, user),
    )
    return CodeSentOut(expires_in=sent.expires_in, resend_after=sent.resend_after)


@router.post("/phone-change", summary="Change the phone number with both numbers' codes")
async def post_phone_change(
    body: PhoneChangeIn, request: Request, user: CurrentUser, services: ServicesDep
) -> PhoneChangedOut:
    changed = await service.change_phone_with_codes(
        services,
        user_id=user.user_id,
        session_id=user.session_id,
        new_phone=body.new_phone,
        old_phone_code=body.old_phone_code,
        new_phone_code=body.new_phone_code,
        payment_password=body.payment_password,
        actor=user_actor(request, user),
    )
    return PhoneChangedOut(phone=mask_phone(changed.phone), changed_at=changed.changed_at)


@router.post(
    "/phone-change-requests",
    status_code=status.HTTP_201_CREATED,
    summary="Lost the old number: ask for a change reviewed by staff",
)
async def post_phone_change_request(
    body: PhoneChangeRequestIn, request: Request, user: CurrentUser, services: ServicesDep
) -> PhoneChangeRequestEnvelope:
    view = await service.request_reviewed_change(
        services,
        user_id=user.user_id,
        new_phone=body.new_phone,
        new_phone_code=body.new_phone_code,
        real_name=body.real_name,
        id_number=body.id_number,
        actor=user_actor(request, user),
    )
    return PhoneChangeRequestEnvelope(request=PhoneChangeRequestOut.of(view))


@router.get("/phone-change-requests", summary="My reviewed phone change requests")
async def get_phone_change_requests(
    user: CurrentUser, services: ServicesDep
) -> PhoneChangeRequestList:
    views = await service.my_requests(services, user_id=user.user_id)
    return PhoneChangeRequestList(items=[PhoneChangeRequestOut.of(view) for view in views])


@router.get("/phone-change-requests/{request_id}", summary="One of my phone change requests")
async def get_phone_change_request(
    request_id: RequestId, user: CurrentUser, services: ServicesDep
) -> PhoneChangeRequestEnvelope:
    view = await service.my_request(services, user_id=user.user_id, request_id=request_id)
    return PhoneChangeRequestEnvelope(request=PhoneChangeRequestOut.of(view))
