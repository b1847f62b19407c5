"""The staff API under ``/v1/staff``: sign-in, the staff member's own account, staff
administration, freezing customer accounts and reading the audit log.

Endpoints are thin: parse, one service call, a response schema. Role checks are
dependencies (:func:`ewallet.staff.deps.require_roles`); sign-in is the only public route.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.staff.deps import CurrentStaff, client_ip, require_roles
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.schemas import (
    AuditEventOut,
    AuditEventPage,
    FreezeIn,
    PasswordChangeIn,
    StaffCreatedOut,
    StaffCreateIn,
    StaffListOut,
    StaffOut,
    StaffSessionOut,
    StaffSignIn,
    StaffTokensOut,
    UserStateEnvelope,
    UserStateOut,
)
from ewallet.staff.service import accounts, audit_log, credentials, customers, sessions
from ewallet.staff.views import StaffTokens

router = APIRouter(prefix="/v1/staff", tags=["staff"])

Admin = Annotated[StaffPrincipal, Depends(require_roles("admin"))]
AccountGuard = Annotated[StaffPrincipal, Depends(require_roles("support_agent", "risk_officer"))]
Auditor = Annotated[StaffPrincipal, Depends(require_roles("risk_officer"))]
NO_STORE = {"Cache-Control": "no-store"}


def _session_out(tokens: StaffTokens, now: datetime) -> StaffSessionOut:
    expires_in = max(0, int(tokens.expires_at.timestamp() - now.timestamp()))
    return StaffSessionOut(
        tokens=StaffTokensOut(
            access_token=tokens.access_token,
            expires_in=expires_in,
            expires_at=tokens.expires_at,
            session_expires_at=tokens.session_expires_at,
        ),
        must_change_password=tokens.must_change_password,
    )


@router.post("/sessions", status_code=201, summary="Staff sign-in (email, password, TOTP)")
async def sign_in(
    body: StaffSignIn, request: Request, response: Response, services: ServicesDep
) -> StaffSessionOut:
    tokens = await credentials.sign_in(
        services,
        email=body.email,
        password=body.password,
        totp_code=body.totp_code,
        ip=client_ip(request),
    )
    response.headers.update(NO_STORE)
    return _session_out(tokens, services.clock.now())


@router.post("/sessions/refresh", status_code=201, summary="A fresh access token")
async def refresh(
    staff: CurrentStaff, response: Response, services: ServicesDep
) -> StaffSessionOut:
    tokens = sessions.refresh(services, staff)
    response.headers.update(NO_STORE)
    return _session_out(tokens, services.clock.now())


@router.delete("/sessions/current", status_code=204, summary="Sign out")
async def sign_out(staff: CurrentStaff, services: ServicesDep) -> Response:
    await sessions.sign_out(services, staff)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in staff member")
async def me(staff: CurrentStaff, services: ServicesDep) -> StaffOut:
    return StaffOut(**asdict(await accounts.get_staff(services, staff)))


@router.put("/me/password", status_code=204, summary="Change the staff member's password")
async def change_password(
    body: PasswordChangeIn, staff: CurrentStaff, services: ServicesDep
) -> Response:
    await accounts.change_password(
        services,
        staff,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=204)


@router.get("/staff", summary="Every staff member (admin)")
async def list_staff(staff: Admin, services: ServicesDep) -> StaffListOut:
    views = await accounts.list_all_staff(services)
    return StaffListOut(items=[StaffOut(**asdict(view)) for view in views])


@router.post("/staff", status_code=201, summary="Create a staff member (admin)")
async def create_staff(
    body: StaffCreateIn, staff: Admin, response: Response, services: ServicesDep
) -> StaffCreatedOut:
    created = await accounts.create_staff(
        services, staff.actor(), email=body.email, role=body.role, display_name=body.display_name
    )
    response.headers.update(NO_STORE)
    return StaffCreatedOut(
        staff=StaffOut(**asdict(created.staff)),
        password=created.password,
        totp_secret=created.totp_secret,
        otpauth_uri=created.otpauth_uri,
    )


@router.post("/staff/{staff_id}/disable", summary="Disable a staff member (admin)")
async def disable_staff(staff_id: str, staff: Admin, services: ServicesDep) -> StaffOut:
    return StaffOut(**asdict(await accounts.disable_staff(services, staff, staff_id=staff_id)))


@router.post("/users/{user_id}/freeze", summary="Freeze a customer's account")
async def freeze_user(
    user_id: str, body: FreezeIn, staff: AccountGuard, services: ServicesDep
) -> UserStateEnvelope:
    state = await customers.freeze_customer(services, staff, user_id=user_id, reason=body.reason)
    return UserStateEnvelope(user=UserStateOut(**asdict(state)))


@router.post("/users/{user_id}/unfreeze", summary="Unfreeze a customer's account")
async def unfreeze_user(
    user_id: str, body: FreezeIn, staff: AccountGuard, services: ServicesDep
) -> UserStateEnvelope:
    state = await customers.unfreeze_customer(services, staff, user_id=user_id, reason=body.reason)
    return UserStateEnvelope(user=UserStateOut(**asdict(state)))


@router.get("/audit-events", summary="The audit log, newest first (admin, risk officer)")
async def audit_events(
    *,
    staff: Auditor,
    services: ServicesDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditEventPage:
    page = await audit_log.list_audit_events(
        services, staff, action=action, subject_id=subject_id, limit=limit, cursor=cursor
    )
    return AuditEventPage(
        items=[AuditEventOut(**asdict(item)) for item in page.items],
        next_cursor=page.next_cursor,
    )
