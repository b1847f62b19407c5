"""Pages of the wallet: changing the phone number (docs/account-lifecycle.md).

- ``/security/phone``: with the old number. One form holds the new number, both SMS codes
  and the payment password; its two "text me a code" buttons post the same form to
  ``/security/phone/old-code`` and ``/security/phone/new-code`` (``formaction``), so what
  was typed survives each step with JavaScript off. The change is
  :func:`ewallet.identity.phone_change.service.change_phone_with_codes`, as
  ``POST /v1/me/phone-change``: this browser stays signed in, every other session ends.
- ``/security/phone/lost``: without it. The real name, the ID number and the new number's
  code open a request staff review
  (:func:`~ewallet.identity.phone_change.service.request_reviewed_change`, as
  ``POST /v1/me/phone-change-requests``); ``/security/phone`` then shows it pending.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.phone_change import service
from ewallet.identity.runtime import CallerDep
from ewallet.kit.errors import DomainError
from ewallet.services import Services
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.pages import page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CHANGE: Final = "wallet/phone_change/change.html"
LOST: Final = "wallet/phone_change/lost.html"
# The fields a refusal is shown next to, by the code's label (``code_for``) or its code.
FIELD_OF: Final = {
    "old_phone": "old_code",
    "new_phone": "new_code",
    "invalid_phone": "new_phone",
    "phone_unchanged": "new_phone",
    "phone_already_registered": "new_phone",
    "payment_password_invalid": "payment_password",
    "invalid_real_name": "real_name",
    "invalid_id_number": "id_number",
}


def _field(error: DomainError) -> str:
    label = str(error.extra.get("code_for", ""))
    return FIELD_OF.get(label) or FIELD_OF.get(error.code, "")


async def _change_page(
    request: Request, services: Services, user_id: str, status_code: int = 200, **shown: Any
) -> Response:
    start = await service.phone_change_start(services, user_id=user_id)
    values: dict[str, Any] = {
        "start": start,
        "new_phone": "",
        "old_code": "",
        "new_code": "",
        "old_sent": False,
        "new_sent": False,
        "error": None,
        "error_field": "",
        "done": False,
    }
    values.update(shown)
    return await page(request, services, CHANGE, status_code=status_code, **values)


def _typed(form: PostedForm) -> dict[str, Any]:
    """What the change form carried, to show again (never the payment password)."""
    return {
        "new_phone": form.text("new_phone"),
        "old_code": form.text("old_code"),
        "new_code": form.text("new_code"),
        "old_sent": form["old_sent"] == "1",
        "new_sent": form["new_sent"] == "1",
    }


@router.get("/security/phone")
async def change_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    return await _change_page(
        request, services, user.user_id, done=request.query_params.get("done") == "1"
    )


@router.get("/security/phone/old-code")
@router.get("/security/phone/new-code")
async def code_step_again(user: WebUser) -> Response:
    """A code step is the answer to a post; reached by address, the page starts over."""
    return see_other("/security/phone")


@router.post("/security/phone/old-code")
async def send_old_code(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser, caller: CallerDep
) -> Response:
    typed = _typed(form)
    try:
        await service.send_old_number_code(
            services, caller=caller, user_id=user.user_id, actor=actor_of(request, user)
        )
    except DomainError as error:
        shown = {**typed, "error": refusal(request, error), "error_field": "old_code"}
        return await _change_page(request, services, user.user_id, error.status, **shown)
    return await _change_page(request, services, user.user_id, **{**typed, "old_sent": True})


@router.post("/security/phone/new-code")
async def send_new_code(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser, caller: CallerDep
) -> Response:
    typed = _typed(form)
    try:
        await service.send_new_number_code(
            services,
            caller=caller,
            user_id=user.user_id,
            new_phone=typed["new_phone"],
            actor=actor_of(request, user),
        )
    except DomainError as error:
        field = _field(error) or "new_code"
        shown = {**typed, "error": refusal(request, error), "error_field": field}
        return await _change_page(request, services, user.user_id, error.status, **shown)
    return await _change_page(request, services, user.user_id, **{**typed, "new_sent": True})


@router.post("/security/phone")
async def change_phone(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    typed = _typed(form)
    try:
        await service.change_phone_with_codes(
            services,
            user_id=user.user_id,
            session_id=user.session_id,
            new_phone=typed["new_phone"],
            old_phone_code=typed["old_code"],
            new_phone_code=typed["new_code"],
            payment_password=form["payment_password"],
            actor=actor_of(request, user),
        )
    except DomainError as error:
        shown = {**typed, "error": refusal(request, error), "error_field": _field(error)}
        return await _change_page(request, services, user.user_id, error.status, **shown)
    return see_other("/security/phone?done=1")


# --- The old number is lost ------------------------------------------------------------------


async def _lost_page(
    request: Request, services: Services, user_id: str, status_code: int = 200, **shown: Any
) -> Response:
    start = await service.phone_change_start(services, user_id=user_id)
    values: dict[str, Any] = {
        "start": start,
        "new_phone": "",
        "new_code": "",
        "real_name": "",
        "new_sent": False,
        "error": None,
        "error_field": "",
    }
    values.update(shown)
    return await page(request, services, LOST, status_code=status_code, **values)


def _typed_lost(form: PostedForm) -> dict[str, Any]:
    """What the request form carried, to show again (never the ID number)."""
    return {
        "new_phone": form.text("new_phone"),
        "new_code": form.text("new_code"),
        "real_name": form.text("real_name"),
        "new_sent": form["new_sent"] == "1",
    }


@router.get("/security/phone/lost")
async def lost_page(request: Request, services: ServicesDep, user: WebUser) -> Response:
    return await _lost_page(request, services, user.user_id)


@router.get("/security/phone/lost/code")
async def lost_code_again(user: WebUser) -> Response:
    return see_other("/security/phone/lost")


@router.post("/security/phone/lost/code")
async def send_lost_code(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser, caller: CallerDep
) -> Response:
    typed = _typed_lost(form)
    try:
        await service.send_new_number_code(
            services,
            caller=caller,
            user_id=user.user_id,
            new_phone=typed["new_phone"],
            actor=actor_of(request, user),
        )
    except DomainError as error:
        field = _field(error) or "new_code"
        shown = {**typed, "error": refusal(request, error), "error_field": field}
        return await _lost_page(request, services, user.user_id, error.status, **shown)
    return await _lost_page(request, services, user.user_id, **{**typed, "new_sent": True})


@router.post("/security/phone/lost")
async def ask_for_review(
    request: Request, form: PostedForm, services: ServicesDep, user: WebUser
) -> Response:
    typed = _typed_lost(form)
    try:
        await service.request_reviewed_change(
            services,
            user_id=user.user_id,
            new_phone=typed["new_phone"],
            new_phone_code=typed["new_code"],
            real_name=typed["real_name"],
            id_number=form.text("id_number"),
            actor=actor_of(request, user),
        )
    except DomainError as error:
        field = _field(error) or ("new_code" if error.code.startswith("verification") else "")
        shown = {**typed, "error": refusal(request, error), "error_field": field}
        return await _lost_page(request, services, user.user_id, error.status, **shown)
    return see_other("/security/phone")
