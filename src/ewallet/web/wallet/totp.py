"""Pages of the wallet: the authenticator app (``/security/totp``).

The use cases of ``/v1/me/totp`` (:mod:`ewallet.identity.totp.service`): start an
enrolment (a new secret, shown as a QR code -- inline SVG from segno -- and as text), turn
it on with a code from the app, which hands out the recovery codes once (they are shown on
that answer alone, never again), and turn it off with a fresh code or an unused recovery
code. Once it is on, a browser or app the account does not know yet is asked for the
authenticator's code when it signs in. Wrong codes are refused inline with nothing
switched; wrong codes while turning it off count toward the account's lock, as in the API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.totp import service as totp
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.qr import qr_svg
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PAGE = "/security/totp"
TEMPLATE = "wallet/security/totp.html"


def grouped(secret: str) -> str:
    """``ABCD EFGH ...``: the secret in fours, easier to type into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


async def _render(
    request: Request,
    services: Services,
    status: totp.TotpStatus,
    *,
    status_code: int = 200,
    error: str | None = None,
    failed: str = "",
) -> Response:
    pending = status.pending
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        status=status,
        qr=qr_svg(pending.otpauth_uri, _t("QR code for your authenticator app", locale_of(request)))
        if pending
        else "",
        secret=grouped(pending.secret) if pending else "",
        done=request.query_params.get("done", ""),
        error=error,
        failed=failed,
    )


@router.get(PAGE)
async def totp_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    return await _render(request, services, await totp.totp_status(services, user_id=user.user_id))


@router.get(f"{PAGE}/start")
@router.get(f"{PAGE}/confirm")
@router.get(f"{PAGE}/off")
async def back_to_page(user: WebUser) -> Response:
    """A form's address opened again (a reload of the answer, a bookmark): the page itself.
    The recovery codes are not shown twice."""
    return see_other(PAGE)


@router.post(f"{PAGE}/start")
async def start(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    """A new secret (an earlier unconfirmed one stops counting); the page then shows it."""
    await totp.start_enrolment(services, user_id=user.user_id, actor=actor_of(request, user))
    return see_other(PAGE)


@router.post(f"{PAGE}/confirm")
async def confirm(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    code = form.text("code")
    try:
        codes = await totp.confirm_enrolment(
            services, user_id=user.user_id, totp_code=code, actor=actor_of(request, user)
        )
    except DomainError as error:
        # Nothing was switched on: the same set-up again (same secret), with the refusal.
        status = await totp.totp_status(services, user_id=user.user_id)
        return await _render(
            request,
            services,
            status,
            status_code=error.status,
            error=refusal(request, error),
            failed="confirm",
        )
    # Shown in this answer only: the service keeps no readable copy of them.
    return await page(request, services, "wallet/security/totp_codes.html", codes=codes)


@router.post(f"{PAGE}/off")
async def turn_off(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    with_recovery = form["method"] == "recovery"
    code = form.text("code")
    if code:
        try:
            await totp.disable_totp(
                services,
                user_id=user.user_id,
                totp_code=None if with_recovery else code,
                recovery_code=code if with_recovery else None,
                actor=actor_of(request, user),
            )
        except DomainError as error:
            message, status_code = refusal(request, error), error.status
        else:
            return see_other(f"{PAGE}?done=off")
    else:
        message, status_code = (
            _t("Enter a code to turn the authenticator off.", locale_of(request)),
            422,
        )
    # Still on (a wrong code is counted toward the lock, as in the API): the page again.
    status = await totp.totp_status(services, user_id=user.user_id)
    return await _render(
        request, services, status, status_code=status_code, error=message, failed="off"
    )
