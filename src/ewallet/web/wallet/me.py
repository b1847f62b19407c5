"""Pages of the wallet: me -- who I am, my account class and what it still allows, real name.

- ``/me``: the masked phone, the real-name status and the account class (I/II/III), and the
  way to everything about the account (cards, passwords, security centre, help, sign out);
- ``/me/account-class``: what each class may spend (``SpendingPolicy.class_rules``, from the
  same settings the spend seam checks) and what remains today for this user -- the limits
  ``GET /v1/me/wallet`` answers (:func:`ewallet.wallet.service.wallet_view`);
- ``/me/real-name``: the verification status, and while unverified the form of
  ``POST /v1/me/identity`` (:func:`ewallet.identity.realname.service.verify_identity`) with
  its refusals (``invalid_real_name``, ``invalid_id_number``, ``age_not_eligible``,
  ``id_number_in_use``) shown inline, the typed name and number kept.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.accounts.service import get_profile
from ewallet.identity.realname import service as realname
from ewallet.kit.errors import DomainError
from ewallet.risk.spending import SpendingPolicy
from ewallet.wallet.service import wallet_view
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CLASS_NAMES = {1: "I", 2: "II", 3: "III"}


@router.get("/me")
async def me(request: Request, services: ServicesDep, user: WebUser) -> Response:
    profile = await get_profile(services, user_id=user.user_id)
    return await page(
        request, services, "wallet/me/me.html", profile=profile, class_names=CLASS_NAMES
    )


@router.get("/me/account-class")
async def account_class(request: Request, services: ServicesDep, user: WebUser) -> Response:
    wallet = await wallet_view(services, user.user_id)
    policy = SpendingPolicy.from_settings(services.settings)  # the seam's, from settings
    return await page(
        request,
        services,
        "wallet/me/account_class.html",
        wallet=wallet,
        rules=policy.class_rules(),
        no_pin_count=policy.daily_no_pin_count,
        class_names=CLASS_NAMES,
    )


REAL_NAME = "wallet/me/real_name.html"


@router.get("/me/real-name")
async def real_name_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    profile = await get_profile(services, user_id=user.user_id)
    return await page(
        request,
        services,
        REAL_NAME,
        profile=profile,
        class_names=CLASS_NAMES,
        done=request.query_params.get("done") == "1",
        real_name="",
        id_number="",
        error_field=None,
    )


@router.post("/me/real-name")
async def verify_real_name(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    name, number = form.text("real_name"), form.text("id_number")
    try:
        await realname.verify_identity(
            services,
            user_id=user.user_id,
            real_name=name,
            id_number=number,
            actor=actor_of(request, user),
        )
    except DomainError as error:
        if error.code == "identity_already_verified":
            return see_other("/me/real-name")  # done meanwhile (another tab, the app)
        # Still unverified, so still class I: the form again, with what was typed.
        return await page(
            request,
            services,
            REAL_NAME,
            status_code=error.status,
            profile=None,
            class_names=CLASS_NAMES,
            done=False,
            real_name=name,
            id_number=number,
            error=refusal(request, error),
            error_field="real_name" if error.code == "invalid_real_name" else "id_number",
        )
    return see_other("/me/real-name?done=1")
