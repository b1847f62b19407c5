"""The static QR page (owners and managers): the merchant's own code and each store's, as an
inline QR image with its printable sheet (PDF, A6 or A5); regenerating a code (confirmed with
the authenticator's code; the old sticker stops paying at once); adding a store; and a live
feed of the day's static-QR payments, a fragment htmx asks for every two seconds, so a
customer's payment appears without reloading.

Every use case is :mod:`ewallet.payments.till.service`'s, for the signed-in person's own
merchant: another merchant's token is ``404``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.merchants.people.permissions import STATIC_QR
from ewallet.merchants.people.views import PortalUser
from ewallet.payments.static_qr.links import static_qr_url
from ewallet.payments.static_qr.sheet import sheet_pdf
from ewallet.payments.till import service as till
from ewallet.web.kit.pages import refusal, see_other
from ewallet.web.kit.qr import qr_svg
from ewallet.web.merchant.auth import allowed
from ewallet.web.merchant.forms import MerchantForm
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(prefix="/merchant/qr", route_class=MerchantRoute, include_in_schema=False)
QrMember = Annotated[PortalUser, Depends(allowed(STATIC_QR))]
Token = Annotated[str, Path(max_length=64)]
QR_PAGE = "/merchant/qr"
FEED_SECONDS = 2


async def _qr_page(
    request: Request,
    services: ServicesDep,
    member: PortalUser,
    *,
    status_code: int = 200,
    **names: Any,
) -> Response:
    overview = await till.static_qr_overview(services, member)
    codes = []
    for code in overview.codes:
        url = static_qr_url(services.settings, code.token)
        label = code.store_name or member.merchant_name
        codes.append({"code": code, "url": url, "qr": qr_svg(url, label)})
    names.setdefault("store_name", "")
    names.setdefault("store_address", "")
    names.setdefault("failed_token", None)
    names.setdefault("regenerated", False)
    return await merchant_page(
        request,
        services,
        "merchant/qr/page.html",
        status_code=status_code,
        codes=codes,
        stores=overview.stores,
        feed=overview.feed,
        feed_seconds=FEED_SECONDS,
        **names,
    )


@router.get("")
async def qr_page(
    request: Request,
    services: ServicesDep,
    member: QrMember,
    regenerated: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    return await _qr_page(request, services, member, regenerated=regenerated == "1")


@router.get("/feed")
async def feed_fragment(request: Request, services: ServicesDep, member: QrMember) -> Response:
    """Today's static-QR payments alone: what htmx swaps in every two seconds."""
    feed = await till.static_qr_feed(services, member)
    return await merchant_page(
        request, services, "merchant/qr/feed.html", feed=feed, feed_seconds=FEED_SECONDS
    )


@router.get("/{token}.pdf")
async def sheet(
    token: Token,
    services: ServicesDep,
    member: QrMember,
    size: Literal["a6", "a5"] = "a6",
) -> Response:
    code = await till.printable_code(services, member, token=token)
    return Response(
        sheet_pdf(code, size=size),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="static-qr-{token[-6:]}-{size}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{token}/regenerate")
async def regenerate(
    request: Request, token: Token, form: MerchantForm, services: ServicesDep, member: QrMember
) -> Response:
    fixed_text = form.text("fixed_amount")
    try:
        await till.regenerate_static_qr(
            services,
            member,
            token=token,
            fixed_amount=parse_amount(fixed_text) if fixed_text else None,
            totp_code=form.text("totp_code"),
        )
    except DomainError as error:
        return await _qr_page(
            request,
            services,
            member,
            status_code=error.status,
            error=refusal(request, error),
            failed_token=token,
        )
    return see_other(QR_PAGE + "?regenerated=1")


@router.post("/stores")
async def add_store(
    request: Request, form: MerchantForm, services: ServicesDep, member: QrMember
) -> Response:
    try:
        await till.add_store(
            services,
            member,
            name=form.text("name"),
            address=form.text("address") or None,
        )
    except DomainError as error:
        return await _qr_page(
            request,
            services,
            member,
            status_code=error.status,
            error=refusal(request, error),
            store_name=form.text("name"),
            store_address=form.text("address"),
        )
    return see_other(QR_PAGE)
