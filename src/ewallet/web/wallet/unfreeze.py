"""Pages of the wallet: unfreezing one's own account (``/security/unfreeze``).

The owner lifts a freeze they or risk control put, proving it is them with the real name,
the ID number, an SMS code of purpose ``unfreeze`` and the payment password (or the
authenticator, where it is on): ``protection.service.unfreeze_own_account``, as
``POST /v1/me/unfreeze``. A freeze staff put, or an account without a verified real name,
is shown the hotline instead (``protection.service.self_unfreeze_refusal``).
The "text me a code" button posts the same form to ``/security/unfreeze/code``
(``formaction``), so what was typed survives with JavaScript off.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.accounts.service import get_profile
from ewallet.identity.protection import service as protection
from ewallet.identity.runtime import CallerDep
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TEMPLATE: Final = "wallet/unfreeze/unfreeze.html"
FIELD_OF: Final = {
    "invalid_real_name": "real_name",
    "invalid_id_number": "id_number",
    "verification_code_invalid": "code",
    "verification_code_expired": "code",
    "payment_password_locked": "payment_password",
    "payment_password_not_set": "payment_password",
}


async def _page(
    request: Request, services: Services, user_id: str, status_code: int = 200, **shown: Any
) -> Response:
    profile = await get_profile(services, user_id=user_id)
    totp_on = profile.totp_enabled_at is not None
    values: dict[str, Any] = {
        "profile": profile,
        "blocked": protection.self_unfreeze_refusal(profile),
        "use_totp": totp_on and request.query_params.get("method") == "totp",
        "totp_on": totp_on,
        "hotline": services.settings.hotline,
        "real_name": "",
        "code": "",
        "sent": False,
        "error": None,
        "error_field": "",
        "done": False,
    }
    values.update(shown)
    return await page(request, services, TEMPLATE, status_code=status_code, **values)


def _typed(form: PostedForm) -> dict[str, Any]:
    """What the form carried, to show again (never the ID number, PIN or TOTP code)."""
    return {
        "real_name": form.text("real_name"),
        "code": form.text("code"),
        "sent": form["sent"] == "1",
        "use_totp": form["method"] == "totp",
    }


@router.get("/security/unfreeze")
async def unfreeze_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    return await _page(
        request, services, user.user_id, done=request.query_params.get("done") == "1"
    )


@router.get("/security/unfreeze/code")
async def code_again(user: WebUser) -> Response:
    return see_other("/security/unfreeze")


@router.post("/security/unfreeze/code")
async def send_code(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser, caller: CallerDep
) -> Response:
    typed = _typed(form)
    try:
        await protection.request_unfreeze_code(services, caller=caller, user_id=user.user_id)
    except DomainError as error:
        shown = {**typed, "error": refusal(request, error), "error_field": "code"}
        return await _page(request, services, user.user_id, error.status, **shown)
    return await _page(request, services, user.user_id, **{**typed, "sent": True})


@router.post("/security/unfreeze")
async def unfreeze(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    typed = _typed(form)
    by_totp = typed["use_totp"]
    proof = protection.UnfreezeProof(
        real_name=typed["real_name"],
        id_number=form.text("id_number"),
        verification_code=typed["code"],
        payment_password=None if by_totp else form["payment_password"],
        totp_code=form.text("totp_code") if by_totp else None,
    )
    try:
        await protection.unfreeze_own_account(
            services, user_id=user.user_id, proof=proof, actor=actor_of(request, user)
        )
    except DomainError as error:
        shown = {
            **typed,
            "error": refusal(request, error),
            "error_field": FIELD_OF.get(error.code, ""),
        }
        return await _page(request, services, user.user_id, error.status, **shown)
    return see_other("/security/unfreeze?done=1")
