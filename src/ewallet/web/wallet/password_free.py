"""Password-free small payments: ``/me/password-free`` shows the setting and today's allowance
and changes it, through the same use cases as ``/v1/me/password-free-payments``.

Turning it on or changing the limit per payment needs the payment password; turning it off
needs nothing (it only makes the account safer). A limit outside (0, ¥1,000] is refused
before the password is checked, so it costs no attempt; the form keeps what was typed,
never the password.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.payments.password_free import service
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PATH = "/me/password-free"
TEMPLATE = "wallet/password_free/settings.html"


@router.get(PATH)
async def settings_page(
    request: Request, user: WebUser, services: ServicesDep, saved: str = ""
) -> Response:
    setting = await service.get_setting(services, user.user_id)
    cap = "" if setting.per_payment_cap is None else setting.per_payment_cap.to_decimal_string()
    return await page(
        request,
        services,
        TEMPLATE,
        setting=setting,
        cap=cap,
        saved=saved if saved in ("on", "off") else "",
        max_cap=service.MAX_PER_PAYMENT_CAP,
    )


def _message(request: Request, error: DomainError) -> str:
    """A refusal as the form shows it: the limit's bounds in words rather than the API's."""
    if error.code == "validation_error":
        return _t("Choose a limit more than ¥0.00 and at most %(max)s.", locale_of(request)) % {
            "max": money(service.MAX_PER_PAYMENT_CAP.minor)
        }
    return refusal(request, error)


@router.post(PATH)
async def change(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    turn_on = form["action"] != "off"
    typed_cap = form.text("cap")
    try:
        cap = parse_amount(typed_cap.removeprefix("¥").replace(",", "")) if turn_on else None
        await service.change_setting(
            services,
            actor_of(request, user),
            user_id=user.user_id,
            enabled=turn_on,
            per_payment_cap=cap,
            pin=(form["payment_password"] or None) if turn_on else None,
        )
    except DomainError as error:
        setting = await service.get_setting(services, user.user_id)
        return await page(
            request,
            services,
            TEMPLATE,
            status_code=error.status,
            setting=setting,
            cap=typed_cap,
            saved="",
            max_cap=service.MAX_PER_PAYMENT_CAP,
            error=_message(request, error),
        )
    return see_other(f"{PATH}?saved={'on' if turn_on else 'off'}")
