"""The staff API under ``/v1/staff``: sign-in, the staff member's own account, staff
administration, freezing customer accounts and reading the audit log.

Endpoints are thin: parse, one service call, a response schema. Role checks are
dependencies (:func:`ewallet.staff.deps.require_roles`); sign-in is the only public route.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from ewallet.http.deps import ClockDep, EngineDep, SettingsDep
from ewallet.identity.deps import SecurityDep
from ewallet.identity.runtime import app_rate_limiter
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.staff import auditlog, service, sessions, users
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

router = APIRouter(prefix="/v1/staff", tags=["staff"])

Admin = Annotated[StaffPrincipal, Depends(require_roles("admin"))]
AccountGuard = Annotated[StaffPrincipal, Depends(require_roles("support_agent", "risk_officer"))]
Auditor = Annotated[StaffPrincipal, Depends(require_roles("risk_officer"))]
NO_STORE = {"Cache-Control": "no-store"}


def _session_out(tokens: sessions.StaffTokens, clock_now_seconds: float) -> StaffSessionOut:
    expires_in = max(0, int(tokens.expires_at.timestamp() - clock_now_seconds))
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
    *,
    body: StaffSignIn,
    request: Request,
    response: Response,
    engine: EngineDep,
    security: SecurityDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> StaffSessionOut:
    tokens = await sessions.sign_in(
        engine,
        security=security,
        settings=settings,
        clock=clock,
        email=body.email,
        password=body.password,
        totp_code=body.totp_code,
        ip=client_ip(request),
        limiter=app_rate_limiter(request.app),
    )
    response.headers.update(NO_STORE)
    return _session_out(tokens, clock.now().timestamp())


@router.post("/sessions/refresh", status_code=201, summary="A fresh access token")
async def refresh(
    staff: CurrentStaff,
    response: Response,
    security: SecurityDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> StaffSessionOut:
    tokens = sessions.refresh(security, settings=settings, clock=clock, principal=staff)
    response.headers.update(NO_STORE)
    return _session_out(tokens, clock.now().timestamp())


@router.delete("/sessions/current", status_code=204, summary="Sign out")
async def sign_out(staff: CurrentStaff, engine: EngineDep, clock: ClockDep) -> Response:
    await sessions.sign_out(engine, clock=clock, principal=staff)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in staff member")
async def me(staff: CurrentStaff, engine: EngineDep) -> StaffOut:
    return StaffOut(**asdict(await service.get_staff(engine, staff.staff_id)))


@router.put("/me/password", status_code=204, summary="Change the staff member's password")
async def change_password(
    *,
    body: PasswordChangeIn,
    staff: CurrentStaff,
    engine: EngineDep,
    security: SecurityDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    await service.change_password(
        engine,
        security=security,
        settings=settings,
        clock=clock,
        principal=staff,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    return Response(status_code=204)


@router.get("/staff", summary="Every staff member (admin)")
async def list_staff(staff: Admin, engine: EngineDep) -> StaffListOut:
    return StaffListOut(
        items=[StaffOut(**asdict(view)) for view in await service.list_all_staff(engine)]
    )


@router.post("/staff", status_code=201, summary="Create a staff member (admin)")
async def create_staff(
    *,
    body: StaffCreateIn,
    staff: Admin,
    response: Response,
    engine: EngineDep,
    security: SecurityDep,
    clock: ClockDep,
) -> StaffCreatedOut:
    created = await service.create_staff(
        engine,
        security=security,
        clock=clock,
        actor=staff.actor(),
        email=body.email,
        role=body.role,
        display_name=body.display_name,
    )
    response.headers.update(NO_STORE)
    return StaffCreatedOut(
        staff=StaffOut(**asdict(created.staff)),
        password=created.password,
        totp_secret=created.totp_secret,
        otpauth_uri=created.otpauth_uri,
    )


@router.post("/staff/{staff_id}/disable", summary="Disable a staff member (admin)")
async def disable_staff(
    staff_id: str, staff: Admin, engine: EngineDep, clock: ClockDep
) -> StaffOut:
    view = await service.disable_staff(engine, clock=clock, principal=staff, staff_id=staff_id)
    return StaffOut(**asdict(view))


@router.post("/users/{user_id}/freeze", summary="Freeze a customer's account")
async def freeze_user(
    *,
    user_id: str,
    body: FreezeIn,
    staff: AccountGuard,
    engine: EngineDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> UserStateEnvelope:
    state = await users.freeze_user(
        engine, clock=clock, settings=settings, principal=staff, user_id=user_id, reason=body.reason
    )
    return UserStateEnvelope(user=UserStateOut(**asdict(state)))


@router.post("/users/{user_id}/unfreeze", summary="Unfreeze a customer's account")
async def unfreeze_user(
    user_id: str, body: FreezeIn, staff: AccountGuard, engine: EngineDep, clock: ClockDep
) -> UserStateEnvelope:
    state = await users.unfreeze_user(
        engine, clock=clock, principal=staff, user_id=user_id, reason=body.reason
    )
    return UserStateEnvelope(user=UserStateOut(**asdict(state)))


@router.get("/audit-events", summary="The audit log, newest first (admin, risk officer)")
async def audit_events(
    *,
    staff: Auditor,
    engine: EngineDep,
    clock: ClockDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditEventPage:
    page = await auditlog.list_audit_events(
        engine,
        clock=clock,
        principal=staff,
        action=action,
        subject_id=subject_id,
        limit=limit,
        cursor=cursor,
    )
    return AuditEventPage(
        items=[AuditEventOut(**asdict(item)) for item in page.items],
        next_cursor=page.next_cursor,
    )
