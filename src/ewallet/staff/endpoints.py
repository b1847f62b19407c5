"""The staff API under ``/v1/staff``: sign-in, the staff member's own account, staff
administration (roles, disabling, authenticator resets approved by a second admin),
freezing customer accounts, and searching and verifying the audit log.

Endpoints are thin: parse, one service call, a response schema. Role checks are
dependencies (:func:`ewallet.staff.deps.require_permission`); sign-in is the only public route.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.pagination import DEFAULT_LIMIT
from ewallet.staff.deps import CurrentStaff, client_ip, require_permission
from ewallet.staff.permissions import ACCOUNT_GUARD, ADMINISTRATION, AUDIT
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.schemas import (
    AuditChainStatusOut,
    AuditEventDetailOut,
    AuditEventOut,
    AuditEventPage,
    ChainProblemOut,
    FreezeIn,
    PasswordChangeIn,
    StaffCreatedOut,
    StaffCreateIn,
    StaffListOut,
    StaffOut,
    StaffPatchIn,
    StaffSessionOut,
    StaffSignIn,
    StaffTokensOut,
    TotpResetApprovedOut,
    TotpResetEnvelope,
    TotpResetIn,
    TotpResetOut,
    TotpResetPage,
    TotpResetRejectIn,
    UserStateEnvelope,
    UserStateOut,
)
from ewallet.staff.service import (
    accounts,
    audit_log,
    credentials,
    customers,
    sessions,
    totp_resets,
)
from ewallet.staff.views import StaffTokens

router = APIRouter(prefix="/v1/staff", tags=["staff"])

Admin = Annotated[StaffPrincipal, Depends(require_permission(ADMINISTRATION))]
AccountGuard = Annotated[StaffPrincipal, Depends(require_permission(ACCOUNT_GUARD))]
Auditor = Annotated[StaffPrincipal, Depends(require_permission(AUDIT))]
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


@router.patch("/staff/{staff_id}", summary="Change a staff member's role (admin)")
async def patch_staff(
    staff_id: str, body: StaffPatchIn, staff: Admin, services: ServicesDep
) -> StaffOut:
    view = await accounts.change_role(services, staff, staff_id=staff_id, role=body.role)
    return StaffOut(**asdict(view))


@router.post(
    "/staff/{staff_id}/totp-resets",
    status_code=201,
    summary="Ask for a staff member's new authenticator (admin; a second admin approves)",
)
async def request_totp_reset(
    staff_id: str, body: TotpResetIn, staff: Admin, services: ServicesDep
) -> TotpResetEnvelope:
    view = await totp_resets.request_totp_reset(
        services, staff, staff_id=staff_id, reason=body.reason
    )
    return TotpResetEnvelope(reset=TotpResetOut(**asdict(view)))


@router.get("/totp-resets", summary="Authenticator resets, newest first (admin)")
async def list_totp_resets(
    *,
    staff: Admin,
    services: ServicesDep,
    state: Literal["open", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TotpResetPage:
    page = await totp_resets.list_totp_resets(
        services, open_only=state == "open", limit=limit, cursor=cursor
    )
    return TotpResetPage(
        items=[TotpResetOut(**asdict(item)) for item in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/totp-resets/{reset_id}/approve",
    summary="Approve an authenticator reset as a second admin: the new secret, shown once",
)
async def approve_totp_reset(
    reset_id: str, staff: Admin, response: Response, services: ServicesDep
) -> TotpResetApprovedOut:
    approved = await totp_resets.approve_totp_reset(services, staff, reset_id=reset_id)
    response.headers.update(NO_STORE)
    return TotpResetApprovedOut(
        reset=TotpResetOut(**asdict(approved.reset)),
        totp_secret=approved.totp_secret,
        otpauth_uri=approved.otpauth_uri,
        sessions_ended=approved.sessions_ended,
    )


@router.post("/totp-resets/{reset_id}/reject", summary="Turn an authenticator reset down (admin)")
async def reject_totp_reset(
    reset_id: str,
    staff: Admin,
    services: ServicesDep,
    body: TotpResetRejectIn | None = None,
) -> TotpResetEnvelope:
    view = await totp_resets.reject_totp_reset(
        services, staff, reset_id=reset_id, reason=body.reason if body else None
    )
    return TotpResetEnvelope(reset=TotpResetOut(**asdict(view)))


@router.get("/audit-events", summary="Search the audit log, newest first (admin, risk officer)")
async def audit_events(
    *,
    staff: Auditor,
    services: ServicesDep,
    actor_type: Annotated[str | None, Query(max_length=10)] = None,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    action_prefix: Annotated[str | None, Query(max_length=64)] = None,
    subject_type: Annotated[str | None, Query(max_length=32)] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=40, description="RFC 3339, or a date (Asia/Shanghai)"),
    ] = None,
    to: Annotated[
        str | None,
        Query(max_length=40, description="RFC 3339 (excluded), or a date (included)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditEventPage:
    flt = audit_log.audit_filter(
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        action_prefix=action_prefix,
        subject_type=subject_type,
        subject_id=subject_id,
        since=from_,
        until=to,
    )
    page = await audit_log.list_audit_events(services, staff, flt=flt, limit=limit, cursor=cursor)
    return AuditEventPage(
        items=[AuditEventOut(**asdict(item)) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/audit-events/verification",
    summary="The audit chain's status: verified up to which event, or broken where",
)
async def audit_verification(staff: Auditor, services: ServicesDep) -> AuditChainStatusOut:
    status = await audit_log.chain_status(services, staff)
    first = status.first_problem
    return AuditChainStatusOut(
        state=status.state,
        total_events=status.total_events,
        verified_event_id=status.verified_event_id,
        verified_event_at=status.verified_event_at,
        unchecked_events=status.unchecked_events,
        checked_from_event_id=status.checked_from_event_id,
        events_checked=status.events_checked,
        checked_at=status.checked_at,
        first_problem=None
        if first is None
        else ChainProblemOut(event_id=first.event_id, kind=first.kind, message=first.message),
        problem_count=status.problem_count,
        head_hash=status.head_hash,
    )


@router.get("/audit-events/{event_id}", summary="One audit event, re-hashed (admin, risk officer)")
async def audit_event(
    event_id: Annotated[int, Path(ge=1)], staff: Auditor, services: ServicesDep
) -> AuditEventDetailOut:
    detail = await audit_log.get_audit_event(services, staff, event_id=event_id)
    return AuditEventDetailOut(
        event=AuditEventOut(**asdict(detail.entry)),
        hash_matches=detail.hash_matches,
        link_matches=detail.link_matches,
        previous_event_id=detail.previous_event_id,
        next_event_id=detail.next_event_id,
    )
