"""Paying a merchant's order from its checkout link: ``/pay/order``.

A signed-in customer pastes a checkout link (or opens ``/pay/order?order=<link or order
id>``, which the hosted checkout page links to, so a wallet user who scanned a QR code is
not asked to sign in a second time). The page shows the order -- merchant, what for,
amount -- and why it cannot be paid, if it cannot (the merchant does not take the wallet,
the order was paid, closed or expired), before asking for anything. The payment password
then pays it through the same use case as ``POST /v1/payments``
(:func:`ewallet.payments.service.pay_order`): same checks in the same order, one payment
per form however often it is posted, and the receipt at ``/pay/receipts/{id}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError, NotFoundError, ValidationFailedError
from ewallet.payments import service as payments
from ewallet.payments.links import order_id_from_text
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.wallet.payment_code import receipt_url

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TEMPLATE = "wallet/orders/order.html"


async def _order_page(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    order_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    shown = await payments.order_for_payer(services, user.user_id, order_id=order_id)
    blocked = None if shown.refusal is None else refusal(request, shown.refusal)
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        shown=shown,
        blocked=blocked,
        error=error,
        link="",
    )


@router.get("/pay/order")
async def order_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    order: Annotated[str, Query(max_length=600)] = "",
) -> Response:
    """Without ``order``: the form to paste a link. With it: the order, ready to pay."""
    if not order.strip():
        return await page(request, services, TEMPLATE, shown=None, link="")
    try:
        order_id = order_id_from_text(order)
        return await _order_page(request, services, user, order_id)
    except DomainError as error:
        if isinstance(error, NotFoundError | ValidationFailedError):
            message = _t(
                "This link does not lead to an order. Check that you copied all of it.",
                locale_of(request),
            )
        else:
            message = refusal(request, error)
        return await page(
            request,
            services,
            TEMPLATE,
            status_code=error.status,
            shown=None,
            link=order,
            error=message,
        )


@router.post("/pay/order")
async def pay(request: Request, form: PostedForm, user: WebUser, services: ServicesDep) -> Response:
    """Pay the order with the payment password; the same form posted twice pays once."""
    order_id = form.text("order_id")
    try:
        payment = await payments.pay_order(
            services,
            actor_of(request, user),
            user_id=user.user_id,
            order_id=order_id,
            pin=form["payment_password"],
            request_key=form_request_key(user.user_id, form, "pay-order"),
        )
    except DomainError as error:
        return await _order_page(
            request,
            services,
            user,
            order_id,
            status_code=error.status,
            error=refusal(request, error),
        )
    return see_other(receipt_url(payment.id))
