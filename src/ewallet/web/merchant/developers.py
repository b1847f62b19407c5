"""The owner's Developers page: the merchant's API keys (label, prefix, made, last used,
state), making one, rotating or revoking one -- each confirmed with the owner's
authenticator, a new key shown once --, the webhook URL and the delivery log. Owners only
(``API_KEYS``).

A refused new key draws its form again with the label kept and the complaint next to the
field it concerns; a refused rotation or revocation says why on a page of its own. A key
is only ever in the answer to the post that made it, ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import Locale
from ewallet.merchants.people.permissions import API_KEYS
from ewallet.merchants.people.views import PortalUser
from ewallet.merchants.service import MAX_LABEL
from ewallet.payments.portal_developers import service as developers
from ewallet.services import Services
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, refusal, see_other
from ewallet.web.merchant.auth import allowed
from ewallet.web.merchant.forms import MerchantForm
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(
    prefix="/merchant/developers", route_class=MerchantRoute, include_in_schema=False
)
KeyOwner = Annotated[PortalUser, Depends(allowed(API_KEYS))]
KeyId = Annotated[str, Path(max_length=24)]
DEVELOPERS: Final = "/merchant/developers"
LOG_SIZE: Final = 25
NO_STORE: Final = {"Cache-Control": "no-store"}
SAVED: Final = frozenset({"webhook", "revoked"})


@router.get("")
async def developers_page(
    *,
    request: Request,
    services: ServicesDep,
    owner: KeyOwner,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    saved: Annotated[str | None, Query(max_length=10)] = None,
    replayed: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    found = await developers.developer_settings(services, owner, limit=LOG_SIZE, cursor=cursor)
    next_url = None
    if found.deliveries.next_cursor:
        next_url = f"{DEVELOPERS}?cursor={found.deliveries.next_cursor}"
    return await merchant_page(
        request,
        services,
        "merchant/developers/page.html",
        settings=found,
        max_label=MAX_LABEL,
        next_url=next_url,
        saved=saved if saved in SAVED else None,
        replayed=replayed,
    )


def _field_messages(locale: Locale) -> dict[str, str]:
    return {
        "label": _t("Give the key a label of 1 to %(most)s characters.", locale)
        % {"most": MAX_LABEL},
        "totp_code": _t("Enter the 6-digit code your authenticator shows now.", locale),
    }


def _create_refused(request: Request, error: DomainError) -> tuple[str, dict[str, str]]:
    """The message above the form, and the one next to the field it concerns (if any)."""
    messages = _field_messages(locale_of(request))
    field = "totp_code" if error.code == "totp_invalid" else error.extra.get("field")
    if field in messages:
        return _t("Check the highlighted field.", locale_of(request)), {field: messages[field]}
    return refusal(request, error), {}


async def _new_key_page(request: Request, services: Services, new_key: object) -> Response:
    answer = await merchant_page(request, services, "merchant/developers/key.html", new_key=new_key)
    answer.headers.update(NO_STORE)
    return answer


async def _refused(request: Request, services: Services, error: DomainError) -> Response:
    return await merchant_page(
        request,
        services,
        "merchant/developers/refused.html",
        status_code=error.status,
        error=refusal(request, error),
    )


@router.post("/keys")
async def create_key(
    request: Request, form: MerchantForm, services: ServicesDep, owner: KeyOwner
) -> Response:
    label = form["label"]
    try:
        made = await developers.create_key(
            services, owner, label=label, totp_code=form.text("totp_code")
        )
    except DomainError as error:
        message, field_errors = _create_refused(request, error)
        return await merchant_page(
            request,
            services,
            "merchant/developers/new_key.html",
            status_code=error.status,
            label=label,
            max_label=MAX_LABEL,
            error=message,
            field_errors=field_errors,
        )
    return await _new_key_page(request, services, made)


@router.post("/keys/{key_id}/rotate")
async def rotate_key(
    request: Request, key_id: KeyId, form: MerchantForm, services: ServicesDep, owner: KeyOwner
) -> Response:
    try:
        made = await developers.rotate_key(
            services, owner, key_id=key_id, totp_code=form.text("totp_code")
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return await _refused(request, services, error)
    return await _new_key_page(request, services, made)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: KeyId, form: MerchantForm, services: ServicesDep, owner: KeyOwner
) -> Response:
    try:
        await developers.revoke_key(
            services, owner, key_id=key_id, totp_code=form.text("totp_code")
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return await _refused(request, services, error)
    return see_other(f"{DEVELOPERS}?saved=revoked")


@router.post("/webhook")
async def set_webhook(
    request: Request, form: MerchantForm, services: ServicesDep, owner: KeyOwner
) -> Response:
    url = form.text("url").strip() or None
    try:
        await developers.set_webhook_url(services, owner, url=url)
    except DomainError as error:
        return await _refused(request, services, error)
    return see_other(f"{DEVELOPERS}?saved=webhook")


@router.post("/deliveries/{delivery_id}/replay")
async def replay(
    request: Request,
    delivery_id: Annotated[int, Path(ge=1, le=2**62)],
    form: MerchantForm,
    services: ServicesDep,
    owner: KeyOwner,
) -> Response:
    try:
        event_id = await developers.replay_delivery(services, owner, delivery_id=delivery_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _refused(request, services, error)
    return see_other(f"{DEVELOPERS}?replayed={event_id}")
