"""Console pages: staff administration (``/console/staff``) -- the staff list, adding a
staff member (the one-time password and the authenticator shown once), changing a role,
disabling an account, and replacing a lost authenticator with a second admin's approval.

For admins, over the use cases of ``/v1/staff/staff`` and ``/v1/staff/totp-resets``: the
rules (nobody changes their own role or disables themselves, the last admin keeps the role,
the admin who asked for a reset cannot approve it) and the audit events are the staff
service's. A one-time password or a TOTP secret is only ever in the answer to the post
that made it -- never in a URL, a cookie or a later page -- and every console page is
``Cache-Control: no-store``.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.staff.service import accounts, totp_resets
from ewallet.web.console.auth import Admin
from ewallet.web.console.forms import ConsoleForm
from ewallet.web.console.nav import ROLE_LABELS
from ewallet.web.console.pages import console_page
from ewallet.web.console.routing import ConsoleRoute
from ewallet.web.kit.i18n import N_
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other
from ewallet.web.kit.qr import qr_svg

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)

LIST_PATH: Final = "/console/staff"
MEMBER_PATH: Final = re.compile(r"/console/staff/stf_[0-9a-z]{1,32}")
LIST: Final = "console/staff_admin/list.html"
NEW: Final = "console/staff_admin/new.html"
CREATED: Final = "console/staff_admin/created.html"
MEMBER: Final = "console/staff_admin/member.html"
APPROVED: Final = "console/staff_admin/approved.html"
StaffId = Annotated[str, Path(max_length=40)]
ResetId = Annotated[str, Path(max_length=40)]

# The staff service's refusals as the page says them (English msgids).
REFUSALS: Final = {
    "second_admin_required": N_(
        "You asked for this reset yourself, so another administrator must approve it. "
        "Nothing was changed."
    ),
    "own_totp_reset": N_(
        "This reset is for your own authenticator: another administrator decides on it. "
        "Nothing was changed."
    ),
    "totp_reset_closed": N_(
        "This reset was already approved or turned down, or it has expired. Nothing was changed."
    ),
    "totp_reset_pending": N_("A reset of this authenticator is already waiting for approval."),
    "last_admin": N_(
        "This is the last active administrator. Make someone else an administrator first."
    ),
    "conflict": N_(
        "You cannot change your own role or disable your own account: ask another administrator."
    ),
    "staff_disabled": N_("This staff account is disabled."),
    "staff_email_taken": N_("A staff member with this email address exists already."),
}
# What a page says after a change went through (``?done=``).
DONE: Final = {
    "role": N_("The role is changed. Their sessions have ended: they sign in again to use it."),
    "disabled": N_("The account is disabled and its sessions have ended."),
    "requested": N_("The reset is asked for. Another administrator must now approve it."),
    "rejected": N_("The reset is turned down. The authenticator stays as it was."),
}


def _message(request: Request, error: DomainError) -> str:
    known = REFUSALS.get(error.code)
    return _t(known, locale_of(request)) if known else refusal(request, error)


def grouped(secret: str) -> str:
    """``ABCD EFGH ...``: the secret in fours, easier to type into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


async def _list(
    request: Request,
    services: Services,
    *,
    status_code: int = 200,
    error: str | None = None,
    done: str = "",
) -> Response:
    overview = await accounts.staff_overview(services)
    waiting = {reset.staff_id for reset in overview.open_resets}
    return await console_page(
        request,
        services,
        LIST,
        status_code=status_code,
        error=error,
        notice=DONE.get(done),
        members=overview.members,
        resets=overview.open_resets,
        waiting=waiting,
    )


async def _member(
    request: Request,
    services: Services,
    staff_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    done: str = "",
    reason: str = "",
) -> Response:
    member = await accounts.staff_member(services, staff_id=staff_id)
    return await console_page(
        request,
        services,
        MEMBER,
        status_code=status_code,
        error=error,
        notice=DONE.get(done),
        member=member.staff,
        reset=member.open_reset,
        roles=ROLE_LABELS,
        reason=reason,
    )


@router.get("/staff")
async def staff_list(
    request: Request, services: ServicesDep, staff: Admin, done: str = ""
) -> Response:
    """Every staff member, and the authenticator resets waiting for a second admin."""
    return await _list(request, services, done=done)


@router.get("/staff/new")
async def new_staff(request: Request, services: ServicesDep, staff: Admin) -> Response:
    return await console_page(
        request, services, NEW, roles=ROLE_LABELS, values={"email": "", "name": "", "role": ""}
    )


@router.post("/staff")
async def create_staff(
    request: Request, form: ConsoleForm, services: ServicesDep, staff: Admin
) -> Response:
    """Create the staff member and show the one-time password and authenticator, once."""
    values = {"email": form.text("email"), "name": form.text("name"), "role": form["role"]}
    try:
        created = await accounts.create_staff(
            services,
            staff.actor(),
            email=values["email"],
            role=values["role"],
            display_name=values["name"] or None,
        )
    except DomainError as error:
        message = _message(request, error)
        if error.code == "validation_error":
            message = _t(
                "Enter a work email address (such as li.hua@bank.example) and choose a role.",
                locale_of(request),
            )
        return await console_page(
            request,
            services,
            NEW,
            status_code=error.status,
            roles=ROLE_LABELS,
            values=values,
            error=message,
        )
    locale = locale_of(request)
    return await console_page(
        request,
        services,
        CREATED,
        member=created.staff,
        password=created.password,
        secret=grouped(created.totp_secret),
        otpauth_uri=created.otpauth_uri,
        qr=qr_svg(created.otpauth_uri, _t("QR code for the authenticator app", locale)),
    )


@router.get("/staff/{staff_id}")
async def member_page(
    staff_id: StaffId, request: Request, services: ServicesDep, staff: Admin, done: str = ""
) -> Response:
    return await _member(request, services, staff_id, done=done)


async def _refused_on_member(
    request: Request, services: Services, staff_id: str, error: DomainError, reason: str = ""
) -> Response:
    """The member's page again with the refusal (or the list, for a member not found)."""
    if error.code == "not_found":
        return await _list(request, services, status_code=404, error=refusal(request, error))
    return await _member(
        request,
        services,
        staff_id,
        status_code=error.status,
        error=_message(request, error),
        reason=reason,
    )


@router.post("/staff/{staff_id}/role")
async def change_role(
    staff_id: StaffId, request: Request, form: ConsoleForm, services: ServicesDep, staff: Admin
) -> Response:
    try:
        await accounts.change_role(services, staff, staff_id=staff_id, role=form["role"])
    except DomainError as error:
        return await _refused_on_member(request, services, staff_id, error)
    return see_other(f"{LIST_PATH}/{staff_id}?done=role")


@router.post("/staff/{staff_id}/disable")
async def disable(
    staff_id: StaffId, request: Request, form: ConsoleForm, services: ServicesDep, staff: Admin
) -> Response:
    if form["confirm"] != "yes":
        return await _member(
            request,
            services,
            staff_id,
            status_code=422,
            error=_t("Tick the box to confirm that the account is to be disabled."),
        )
    try:
        await accounts.disable_staff(services, staff, staff_id=staff_id)
    except DomainError as error:
        return await _refused_on_member(request, services, staff_id, error)
    return see_other(f"{LIST_PATH}/{staff_id}?done=disabled")


@router.post("/staff/{staff_id}/totp-resets")
async def request_reset(
    staff_id: StaffId, request: Request, form: ConsoleForm, services: ServicesDep, staff: Admin
) -> Response:
    reason = form.text("reason")
    try:
        await totp_resets.request_totp_reset(services, staff, staff_id=staff_id, reason=reason)
    except DomainError as error:
        if error.code == "validation_error":
            return await _member(
                request,
                services,
                staff_id,
                status_code=422,
                error=_t(
                    "Say in a few words why the authenticator is replaced (200 characters at most)."
                ),
                reason=reason,
            )
        return await _refused_on_member(request, services, staff_id, error, reason)
    return see_other(f"{LIST_PATH}/{staff_id}?done=requested")


def _back(form_back: str) -> str:
    """Where a decision returns: the member's page it was made on, or the list."""
    return form_back if MEMBER_PATH.fullmatch(form_back) else LIST_PATH


@router.post("/staff/totp-resets/{reset_id}/approve")
async def approve_reset(
    reset_id: ResetId, request: Request, form: ConsoleForm, services: ServicesDep, staff: Admin
) -> Response:
    """Approve as the second admin: the new secret is shown in this answer only."""
    try:
        approved = await totp_resets.approve_totp_reset(services, staff, reset_id=reset_id)
    except DomainError as error:
        return await _list(
            request, services, status_code=error.status, error=_message(request, error)
        )
    locale = locale_of(request)
    return await console_page(
        request,
        services,
        APPROVED,
        reset=approved.reset,
        secret=grouped(approved.totp_secret),
        otpauth_uri=approved.otpauth_uri,
        qr=qr_svg(approved.otpauth_uri, _t("QR code for the authenticator app", locale)),
    )


@router.get("/staff/totp-resets/{reset_id}/approve")
async def approved_again(reset_id: ResetId, staff: Admin) -> Response:
    """The approval's address opened again (a reload, the back button): the secret is not
    shown twice, so back to the list."""
    return see_other(LIST_PATH)


@router.post("/staff/totp-resets/{reset_id}/reject")
async def reject_reset(
    reset_id: ResetId, request: Request, form: ConsoleForm, services: ServicesDep, staff: Admin
) -> Response:
    try:
        await totp_resets.reject_totp_reset(
            services, staff, reset_id=reset_id, reason=form.text("reason") or None
        )
    except DomainError as error:
        return await _list(
            request, services, status_code=error.status, error=_message(request, error)
        )
    return see_other(f"{_back(form['back'])}?done=rejected")
