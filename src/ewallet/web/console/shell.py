"""The console's shell: sign-in (email, password and the authenticator's code, as
``POST /v1/staff/sessions``), sign-out, the idle lock, replacing the one-time password, and
the overview a staff member lands on.

Sign-in runs the staff API's own use case: the same failure lock, per-address limit and
one-use TOTP codes; the session opened is an ordinary row of the staff sessions table that
ends after ``staff_session_hours`` (8 by default). A browser left idle for
``staff_idle_minutes`` shows the lock screen until the password is given again; too many
wrong passwords there lock the account as at sign-in and end the session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.errors import TooManyAttemptsError
from ewallet.kit.errors import DomainError
from ewallet.staff.service import accounts, credentials, sessions
from ewallet.staff.service.unlock import unlock_with_password
from ewallet.web.console import session
from ewallet.web.console.auth import (
    PASSWORD_PATH,
    SIGN_IN_PATH,
    AnyStaff,
    SignedInStaff,
    client_ip,
    console_staff,
    is_idle,
)
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.auth import local_path
from ewallet.web.kit.pages import refusal, see_other

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

HOME = "/console/"


def _next(value: str | None) -> str:
    """Back to a console page after signing in or unlocking; anywhere else is refused."""
    target = local_path(value or HOME)
    return target if target.startswith("/console") else HOME


@router.get("")
async def console_root() -> Response:
    return see_other(HOME)


@router.get("/signin")
async def sign_in_page(
    request: Request,
    services: ServicesDep,
    next_path: Annotated[str | None, Query(alias="next", max_length=512)] = None,
) -> Response:
    staff = await console_staff(request, services)
    if staff is not None and not is_idle(request, services, staff):
        return see_other(_next(next_path))
    return await console_page(
        request, services, "console/shell/signin.html", next=_next(next_path), email=""
    )


@router.post("/signin")
async def sign_in(request: Request, form: ConsoleForm, services: ServicesDep) -> Response:
    next_path = _next(form["next"])
    try:
        tokens = await credentials.sign_in(
            services,
            email=form.text("email"),
            password=form["password"],
            totp_code=form.text("totp_code"),
            ip=client_ip(request),
        )
    except DomainError as error:
        return await console_page(
            request,
            services,
            "console/shell/signin.html",
            status_code=error.status,
            next=next_path,
            email=form.text("email"),
            error=refusal(request, error),
        )
    response = see_other(PASSWORD_PATH if tokens.must_change_password else next_path)
    session.set_session(response, services, tokens.session_id, expires_at=tokens.session_expires_at)
    session.mark_active(response, services, tokens.session_id)
    return response


@router.post("/signout")
async def sign_out(
    request: Request, form: ConsoleForm, services: ServicesDep, staff: SignedInStaff
) -> Response:
    await sessions.sign_out(services, staff)
    response = see_other(SIGN_IN_PATH)
    session.clear(response, services)
    return response


@router.get("/lock")
async def lock_page(
    request: Request,
    services: ServicesDep,
    staff: SignedInStaff,
    next_path: Annotated[str | None, Query(alias="next", max_length=512)] = None,
) -> Response:
    return await console_page(request, services, "console/shell/lock.html", next=_next(next_path))


@router.post("/lock")
async def unlock(
    request: Request, form: ConsoleForm, services: ServicesDep, staff: SignedInStaff
) -> Response:
    next_path = _next(form["next"])
    try:
        await unlock_with_password(services, staff, password=form["password"])
    except TooManyAttemptsError:
        # The account is locked now: this session ends too, and sign-in says why.
        await sessions.sign_out(services, staff)
        response = see_other(SIGN_IN_PATH)
        session.clear(response, services)
        return response
    except DomainError as error:
        return await console_page(
            request,
            services,
            "console/shell/lock.html",
            status_code=error.status,
            next=next_path,
            error=refusal(request, error),
        )
    response = see_other(next_path)
    session.mark_active(response, services, staff.session_id)
    return response


@router.post("/activity", status_code=204)
async def still_here(form: ConsoleForm, staff: AnyStaff) -> Response:
    """The console's script says the staff member is typing or clicking (in a chat, a long
    form): the activity cookie is renewed by the route, so the screen stays unlocked."""
    return Response(status_code=204)


@router.get("/password")
async def password_page(request: Request, services: ServicesDep, staff: SignedInStaff) -> Response:
    return await console_page(request, services, "console/shell/password.html")


@router.post("/password")
async def change_password(
    request: Request, form: ConsoleForm, services: ServicesDep, staff: SignedInStaff
) -> Response:
    if form["new_password"] != form["confirm_password"]:
        return await console_page(
            request,
            services,
            "console/shell/password.html",
            status_code=422,
            mismatch=True,
        )
    try:
        await accounts.change_password(
            services,
            staff,
            current_password=form["current_password"],
            new_password=form["new_password"],
        )
    except DomainError as error:
        return await console_page(
            request,
            services,
            "console/shell/password.html",
            status_code=error.status,
            error=refusal(request, error),
            reasons=[str(reason) for reason in error.extra.get("reasons", [])],
        )
    response = see_other(HOME)
    session.mark_active(response, services, staff.session_id)
    return response


@router.get("/")
async def overview(request: Request, services: ServicesDep, staff: AnyStaff) -> Response:
    return await console_page(request, services, "console/shell/overview.html")
