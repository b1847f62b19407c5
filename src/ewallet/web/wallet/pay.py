"""The Pay tab: ``/pay`` shows the payment code (barcode, digits, QR image) with the charges
waiting for the payment password, and ``/pay/receipts/{id}`` is where every payment to a
merchant ends (a confirmed payment-code charge, an order paid from a checkout link).

The code is issued by the same use case as ``GET /v1/me/payment-code`` (refused for a
frozen account or before a payment password is set: the page says so and where to set
one); the live parts are in :mod:`ewallet.web.wallet.payment_code`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.kit.errors import DomainError
from ewallet.payments import service as payments
from ewallet.payments.payment_codes.service import screen
from ewallet.web.kit.auth import WebUser
from ewallet.web.kit.pages import page, refusal
from ewallet.web.kit.routing import WebRoute
from ewallet.web.wallet.payment_code import code_context

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/pay")
async def pay_page(
    request: Request, user: WebUser, services: ServicesDep, declined: str = ""
) -> Response:
    try:
        shown = await screen.show(services, user.user_id)
    except DomainError as error:
        return await page(
            request,
            services,
            "wallet/pay/pay.html",
            status_code=error.status,
            refused=refusal(request, error),
            refused_code=error.code,
            declined=False,
        )
    return await page(
        request,
        services,
        "wallet/pay/pay.html",
        refused=None,
        activity=shown.activity,
        declined=declined == "1",
        **code_context(shown.code),
    )


@router.get("/pay/receipts/{payment_id}")
async def receipt(
    payment_id: str, request: Request, user: WebUser, services: ServicesDep
) -> Response:
    """One of the user's payments to a merchant; anyone else's is ``not_found`` (404)."""
    payment = await payments.get_payment(services, user.user_id, payment_id=payment_id)
    return await page(request, services, "wallet/pay/receipt.html", payment=payment)
