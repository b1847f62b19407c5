"""The portal's shell: sign-in (email, password, and the authenticator's code for owners and
managers), the authenticator's enrolment at the first sign-in, replacing the one-time
password, the idle lock, sign-out, and the home page with today's figures.

Sign-in runs :func:`ewallet.merchants.people.service.sign_in` (failure lock, per-address
limit, one-use TOTP codes); the session is a row of ``merchant_user_sessions`` that ends
after ``merchant_session_hours``. A browser left idle ``merchant_idle_minutes`` shows the
lock screen until the password is given again; too many wrong passwords there lock the
account as at sign-in and end the session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.errors import TooManyAttemptsError
from ewallet.kit.errors import DomainError
from ewallet.merchants.people import service as people
from ewallet.merchants.reports import service as reports
from ewallet.web.kit.auth import local_path
from ewallet.web.kit.pages import refusal, see_other
from ewallet.web.kit.qr import qr_svg
from ewallet.web.merchant.auth import (
    HOME,
    PASSWORD_PATH,
    SIGN_IN_PATH,
    TOTP_PATH,
    AnyMember,
    SalesReader,
    SignedInUser,
    client_ip,
    is_idle,
    portal_user,
)
from ewallet.web.merchant.forms import MerchantForm
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute
from ewallet.web.merchant.session import COOKIES

router = APIRouter(prefix="/merchant", route_class=MerchantRoute, include_in_schema=False)


def _next(value: str | None) -> str:
    """Back to a portal page after signing in or unlocking; anywhere else is refused."""
    target = local_path(value or HOME)
    return target if target.startswith("/merchant") else HOME


@router.get("")
async def portal_root() -> Response:
    return see_other(HOME)


@router.get("/signin")
async def sign_in_page(
    request: Request,
    services: ServicesDep,
    next_path: Annotated[str | None, Query(alias="next", max_length=512)] = None,
) -> Response:
    member = await portal_user(request, services)
    if member is not None and not is_idle(request, services, member):
        return see_other(_next(next_path))
    return await merchant_page(
        request, services, "merchant/shell/signin.html", next=_next(next_path), email=""
    )


@router.post("/signin")
async def sign_in(request: Request, form: MerchantForm, services: ServicesDep) -> Response:
    next_path = _next(form["next"])
    try:
        opened = await people.sign_in(
            services,
            email=form.text("email"),
            password=form["password"],
            totp_code=form.text("totp_code"),
            ip=client_ip(request),
        )
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/shell/signin.html",
            status_code=error.status,
            next=next_path,
            email=form.text("email"),
            error=refusal(request, error),
        )
    if opened.must_enrol_totp:
        target = TOTP_PATH
    elif opened.must_change_password:
        target = PASSWORD_PATH
    else:
        target = next_path
    response = see_other(target)
    COOKIES.set_session(response, services, opened.session_id, expires_at=opened.expires_at)
    COOKIES.mark_active(response, services, opened.session_id)
    return response


@router.post("/signout")
async def sign_out(form: MerchantForm, services: ServicesDep, member: SignedInUser) -> Response:
    await people.sign_out(services, member)
    response = see_other(SIGN_IN_PATH)
    COOKIES.clear(response, services)
    return response


@router.get("/lock")
async def lock_page(
    request: Request,
    services: ServicesDep,
    member: SignedInUser,
    next_path: Annotated[str | None, Query(alias="next", max_length=512)] = None,
) -> Response:
    return await merchant_page(request, services, "merchant/shell/lock.html", next=_next(next_path))


@router.post("/lock")
async def unlock(
    request: Request, form: MerchantForm, services: ServicesDep, member: SignedInUser
) -> Response:
    next_path = _next(form["next"])
    try:
        await people.unlock(services, member, password=form["password"])
    except TooManyAttemptsError:
        # The account is locked now: this session ends too, and sign-in says why.
        await people.sign_out(services, member)
        response = see_other(SIGN_IN_PATH)
        COOKIES.clear(response, services)
        return response
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/shell/lock.html",
            status_code=error.status,
            next=next_path,
            error=refusal(request, error),
        )
    response = see_other(next_path)
    COOKIES.mark_active(response, services, member.session_id)
    return response


@router.post("/activity", status_code=204)
async def still_here(form: MerchantForm, member: AnyMember) -> Response:
    """The portal's script says the person is working on a long form: the route renews
    the activity cookie, so the screen stays unlocked."""
    return Response(status_code=204)


@router.get("/totp")
async def totp_page(request: Request, services: ServicesDep, member: SignedInUser) -> Response:
    if not member.must_enrol_totp:
        return see_other(HOME)
    enrolment = await people.totp_enrolment(services, member)
    return await merchant_page(
        request,
        services,
        "merchant/shell/totp.html",
        secret=enrolment.secret,
        qr=qr_svg(enrolment.uri, "authenticator QR code"),
    )


@router.post("/totp")
async def confirm_totp(
    request: Request, form: MerchantForm, services: ServicesDep, member: SignedInUser
) -> Response:
    if not member.must_enrol_totp:
        return see_other(HOME)
    try:
        await people.confirm_totp(services, member, code=form.text("totp_code"))
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/shell/totp_retry.html",
            status_code=error.status,
            error=refusal(request, error),
        )
    response = see_other(PASSWORD_PATH if member.must_change_password else HOME)
    COOKIES.mark_active(response, services, member.session_id)
    return response


@router.get("/password")
async def password_page(request: Request, services: ServicesDep, member: SignedInUser) -> Response:
    if member.must_enrol_totp:
        return see_other(TOTP_PATH)
    return await merchant_page(request, services, "merchant/shell/password.html")


@router.post("/password")
async def change_password(
    request: Request, form: MerchantForm, services: ServicesDep, member: SignedInUser
) -> Response:
    if member.must_enrol_totp:
        return see_other(TOTP_PATH)
    if form["new_password"] != form["confirm_password"]:
        return await merchant_page(
            request, services, "merchant/shell/password.html", status_code=422, mismatch=True
        )
    try:
        await people.change_password(
            services,
            member,
            current_password=form["current_password"],
            new_password=form["new_password"],
        )
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/shell/password.html",
            status_code=error.status,
            error=refusal(request, error),
            reasons=[str(reason) for reason in error.extra.get("reasons", [])],
        )
    response = see_other(HOME)
    COOKIES.mark_active(response, services, member.session_id)
    return response


@router.get("/")
async def home(request: Request, services: ServicesDep, member: SalesReader) -> Response:
    figures = await reports.today(services, member)
    return await merchant_page(request, services, "merchant/shell/home.html", figures=figures)
