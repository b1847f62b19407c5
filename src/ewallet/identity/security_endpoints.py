"""HTTP routes of account security: payment password, resets, TOTP, real name, protection.

Thin on purpose: each route parses its body, calls one service function and shapes the
answer. Everything under ``/v1/me`` needs a live access token (:data:`CurrentUser`);
``POST /v1/password-resets`` is public -- the SMS code is the proof -- and only reads a
Bearer token to keep the resetting device signed in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from ewallet.audit.service import Actor
from ewallet.http.deps import ClockDep, EngineDep, LocaleDep, SettingsDep
from ewallet.identity import protection, realname, recovery, totp
from ewallet.identity.deps import CurrentUser, Principal, SecurityDep, bearer_token
from ewallet.identity.payment_password.service import set_payment_password
from ewallet.identity.runtime import app_rate_limiter
from ewallet.identity.security_schemas import (
    AntiPhishingCodeIn,
    AntiPhishingCodeOut,
    FreezeIn,
    FreezeOut,
    IdentityIn,
    IdentityOut,
    NotificationOut,
    NotificationPage,
    PasswordResetIn,
    PaymentPasswordIn,
    RecoveryCodesOut,
    TotpCodeIn,
    TotpDisableIn,
    TotpEnrolmentOut,
)
from ewallet.identity.totp_check import TotpBound
from ewallet.kit.errors import UnauthorizedError
from ewallet.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["account security"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _actor(request: Request, user: Principal) -> Actor:
    return Actor("user", user.user_id, _ip(request))


@router.put("/me/payment-password", status_code=204, summary="Set or change the payment password")
async def put_payment_password(
    *,
    body: PaymentPasswordIn,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    security: SecurityDep,
) -> Response:
    await set_payment_password(
        engine,
        clock=clock,
        settings=settings,
        security=security,
        limiter=app_rate_limiter(request.app),
        user_id=user.user_id,
        new_pin=body.payment_password,
        current_pin=body.current_payment_password,
        actor=_actor(request, user),
    )
    return Response(status_code=204)


@router.post("/password-resets", status_code=204, summary="Reset a forgotten password by SMS")
async def post_password_reset(
    *,
    body: PasswordResetIn,
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    security: SecurityDep,
) -> Response:
    kept = None
    token = bearer_token(request)
    if token is not None:
        try:
            claims = security.tokens.verify(token, kind="user", now=clock.now())
            kept = recovery.KeptSession(user_id=claims.subject, session_id=claims.session_id)
        except UnauthorizedError:
            kept = None  # an expired token must not stand in the way of a reset
    reset = recovery.ResetRequest(
        phone=body.phone,
        verification_code=body.verification_code,
        kind=recovery.ResetKind(body.kind),
        new_password=body.new_password,
        identity=body.identity,
        kept_session=kept,
        client_ip=_ip(request),
    )
    await recovery.reset_password(
        engine,
        clock=clock,
        settings=settings,
        security=security,
        limiter=app_rate_limiter(request.app),
        request=reset,
    )
    return Response(status_code=204)


@router.post("/me/totp", status_code=201, summary="Start authenticator enrolment")
async def post_totp(
    request: Request, user: CurrentUser, engine: EngineDep, clock: ClockDep, security: SecurityDep
) -> TotpEnrolmentOut:
    enrolment = await totp.start_enrolment(
        engine, clock=clock, security=security, user_id=user.user_id, actor=_actor(request, user)
    )
    return TotpEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/me/totp/confirm", summary="Turn the authenticator on; returns recovery codes")
async def post_totp_confirm(
    *,
    body: TotpCodeIn,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
    security: SecurityDep,
) -> RecoveryCodesOut:
    codes = await totp.confirm_enrolment(
        engine,
        clock=clock,
        security=security,
        user_id=user.user_id,
        totp_code=body.totp_code,
        actor=_actor(request, user),
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete("/me/totp", status_code=204, summary="Turn the authenticator off")
async def delete_totp(
    *,
    body: TotpDisableIn,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
    security: SecurityDep,
    settings: SettingsDep,
) -> Response:
    await totp.disable_totp(
        engine,
        clock=clock,
        security=security,
        user_id=user.user_id,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        actor=_actor(request, user),
        bound=TotpBound.from_settings(settings),
    )
    return Response(status_code=204)


@router.post("/me/identity", summary="Real-name verification (raises the account class)")
async def post_identity(
    *,
    body: IdentityIn,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
    security: SecurityDep,
) -> IdentityOut:
    verified = await realname.verify_identity(
        engine,
        clock=clock,
        security=security,
        user_id=user.user_id,
        real_name=body.real_name,
        id_number=body.id_number,
        actor=_actor(request, user),
    )
    return IdentityOut.of(verified)


@router.post("/me/freeze", summary="Freeze the account at once")
async def post_freeze(
    *,
    body: FreezeIn,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
    settings: SettingsDep,
    security: SecurityDep,
) -> FreezeOut:
    frozen_at = await protection.freeze_own_account(
        engine,
        clock=clock,
        settings=settings,
        security=security,
        user_id=user.user_id,
        session_id=user.session_id,
        proof=protection.FreezeProof(body.payment_password, body.verification_code),
        actor=_actor(request, user),
    )
    return FreezeOut(frozen_at=frozen_at)


@router.put("/me/anti-phishing-code", summary="Set the code every message of ours starts with")
async def put_anti_phishing_code(
    body: AntiPhishingCodeIn,
    request: Request,
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
) -> AntiPhishingCodeOut:
    code = await protection.set_anti_phishing_code(
        engine, clock=clock, user_id=user.user_id, code=body.code, actor=_actor(request, user)
    )
    return AntiPhishingCodeOut(anti_phishing_code=code)


@router.delete("/me/anti-phishing-code", status_code=204, summary="Remove the anti-phishing code")
async def delete_anti_phishing_code(
    request: Request, user: CurrentUser, engine: EngineDep, clock: ClockDep
) -> Response:
    await protection.set_anti_phishing_code(
        engine, clock=clock, user_id=user.user_id, code=None, actor=_actor(request, user)
    )
    return Response(status_code=204)


@router.get("/me/notifications", summary="Notices, newest first")
async def get_notifications(
    user: CurrentUser,
    engine: EngineDep,
    locale: LocaleDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> NotificationPage:
    page = await protection.list_notifications(
        engine, user_id=user.user_id, locale=locale, limit=limit, cursor=cursor
    )
    items = [NotificationOut.of(view) for view in page.items]
    return NotificationPage(items=items, next_cursor=page.next_cursor)


@router.post(
    "/me/notifications/{notification_id}/read", status_code=204, summary="Mark a notice read"
)
async def post_notification_read(
    notification_id: Annotated[str, Path(max_length=64)],
    user: CurrentUser,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    await protection.mark_notification_read(
        engine, clock=clock, user_id=user.user_id, notification_id=notification_id
    )
    return Response(status_code=204)
