"""The owner's Developers page: the API key's id and when it was issued, rotating it (the
new key shown once, confirmed with the authenticator), the webhook URL and the delivery
log. Owners only (``API_KEYS``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.merchants.people.permissions import API_KEYS
from ewallet.merchants.people.views import PortalUser
from ewallet.payments.portal_developers import service as developers
from ewallet.web.kit.pages import refusal, see_other
from ewallet.web.merchant.auth import allowed
from ewallet.web.merchant.forms import MerchantForm
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(
    prefix="/merchant/developers", route_class=MerchantRoute, include_in_schema=False
)
KeyOwner = Annotated[PortalUser, Depends(allowed(API_KEYS))]
DEVELOPERS = "/merchant/developers"
LOG_SIZE = 25
NO_STORE = {"Cache-Control": "no-store"}


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
        next_url=next_url,
        saved=saved,
        replayed=replayed,
    )


@router.post("/rotate")
async def rotate(
    request: Request, form: MerchantForm, services: ServicesDep, owner: KeyOwner
) -> Response:
    try:
        rotated = await developers.rotate_key(services, owner, totp_code=form.text("totp_code"))
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/developers/refused.html",
            status_code=error.status,
            error=refusal(request, error),
        )
    answer = await merchant_page(request, services, "merchant/developers/key.html", rotated=rotated)
    answer.headers.update(NO_STORE)
    return answer


@router.post("/webhook")
async def set_webhook(
    request: Request, form: MerchantForm, services: ServicesDep, owner: KeyOwner
) -> Response:
    url = form.text("url").strip() or None
    try:
        await developers.set_webhook_url(services, owner, url=url)
    except DomainError as error:
        return await merchant_page(
            request,
            services,
            "merchant/developers/refused.html",
            status_code=error.status,
            error=refusal(request, error),
        )
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
        return await merchant_page(
            request,
            services,
            "merchant/developers/refused.html",
            status_code=error.status,
            error=refusal(request, error),
        )
    return see_other(f"{DEVELOPERS}?replayed={event_id}")
