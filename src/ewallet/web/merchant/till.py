"""The cashier's till (every role): the amount, then the customer's payment code in a field
that submits on Enter (a keyboard-wedge scanner types the digits and Enter), charged through
:func:`ewallet.payments.till.service.charge_at_till`.

After a sale the page answers ``303`` to ``/merchant/till?sale=<order id>`` (a reload does not
charge again; the form's ``form_key`` makes a double submit the same charge). A sale waiting
for the customer's payment password is a small fragment that htmx asks for every second
(``/merchant/till/sales/<id>``) until it is paid or declined; without JavaScript a "check
again" link does the same. The last sale is refunded from the till: a cashier with an owner's
or manager's email, password and authenticator code typed on the spot
(``refund_with_approval``), an owner or manager directly (``refund_as_member``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.merchants.people.permissions import REFUNDING, TILL
from ewallet.merchants.people.views import PortalUser
from ewallet.payments.portal_refunds import service as portal_refunds
from ewallet.payments.till import service as till
from ewallet.payments.till.views import TillSale
from ewallet.web.kit.pages import refusal, see_other
from ewallet.web.merchant.auth import allowed
from ewallet.web.merchant.forms import MerchantForm
from ewallet.web.merchant.pages import merchant_page
from ewallet.web.merchant.routing import MerchantRoute

router = APIRouter(prefix="/merchant/till", route_class=MerchantRoute, include_in_schema=False)
TillMember = Annotated[PortalUser, Depends(allowed(TILL))]
OrderId = Annotated[str, Path(max_length=32)]
TILL_PAGE = "/merchant/till"
POLL_SECONDS = 1


async def _till_page(
    request: Request,
    services: ServicesDep,
    member: PortalUser,
    *,
    status_code: int = 200,
    last: TillSale | None = None,
    **names: Any,
) -> Response:
    names.setdefault("amount", "")
    names.setdefault("focus", "amount")
    return await merchant_page(
        request,
        services,
        "merchant/till/till.html",
        status_code=status_code,
        sale=last,
        poll_seconds=POLL_SECONDS,
        **names,
    )


@router.get("")
async def till_page(
    request: Request,
    services: ServicesDep,
    member: TillMember,
    sale_id: Annotated[str | None, Query(alias="sale", max_length=32)] = None,
) -> Response:
    last = await till.sale(services, member, order_id=sale_id) if sale_id else None
    return await _till_page(request, services, member, last=last)


@router.post("")
async def charge(
    request: Request, form: MerchantForm, services: ServicesDep, member: TillMember
) -> Response:
    amount_text = form.text("amount")
    code = "".join(form.text("code").split())
    if amount_text and not code:
        # Enter in the amount field without JavaScript: now the code.
        return await _till_page(request, services, member, amount=amount_text, focus="code")
    try:
        amount = parse_amount(amount_text)
        sale = await till.charge_at_till(
            services,
            member,
            amount=amount,
            payment_code=code,
            request_key=form.text("form_key"),
        )
    except DomainError as error:
        return await _till_page(
            request,
            services,
            member,
            status_code=error.status,
            amount=amount_text,
            focus="code" if amount_text else "amount",
            error=refusal(request, error),
        )
    return see_other(f"{TILL_PAGE}?sale={sale.order_id}")


@router.get("/sales/{order_id}")
async def sale_fragment(
    request: Request, order_id: OrderId, services: ServicesDep, member: TillMember
) -> Response:
    """The sale's panel alone: what htmx swaps in while the customer confirms."""
    last = await till.sale(services, member, order_id=order_id)
    return await merchant_page(
        request,
        services,
        "merchant/till/sale.html",
        sale=last,
        poll_seconds=POLL_SECONDS,
    )


async def _refund_page(
    request: Request,
    services: ServicesDep,
    member: PortalUser,
    last: TillSale,
    *,
    status_code: int = 200,
    **names: Any,
) -> Response:
    direct = REFUNDING.allows(member.role)
    return await merchant_page(
        request,
        services,
        "merchant/till/refund.html",
        status_code=status_code,
        sale=last,
        direct=direct,
        needs_code=direct and portal_refunds.needs_code(services, last.refundable),
        **names,
    )


@router.get("/sales/{order_id}/refund")
async def refund_page(
    request: Request, order_id: OrderId, services: ServicesDep, member: TillMember
) -> Response:
    last = await till.sale(services, member, order_id=order_id)
    return await _refund_page(request, services, member, last, approver_email="")


@router.post("/sales/{order_id}/refund")
async def refund(
    request: Request,
    order_id: OrderId,
    form: MerchantForm,
    services: ServicesDep,
    member: TillMember,
) -> Response:
    try:
        await till.refund_last_sale(
            services,
            member,
            order_id=order_id,
            request_key=form.text("form_key"),
            totp_code=form.text("totp_code"),
            approver_email=form.text("approver_email"),
            approver_password=form["approver_password"],
            approver_totp=form.text("approver_totp"),
        )
    except DomainError as error:
        if error.status == 404:
            raise
        last = await till.sale(services, member, order_id=order_id)
        return await _refund_page(
            request,
            services,
            member,
            last,
            status_code=error.status,
            approver_email=form.text("approver_email"),
            error=refusal(request, error),
        )
    return see_other(f"{TILL_PAGE}?sale={order_id}")
