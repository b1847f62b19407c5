"""Paying a merchant's order from its checkout link: ``/pay/order``.

A signed-in customer pastes a checkout link (or opens ``/pay/order?order=<link or order
id>``, which the hosted checkout page links to, so a wallet user who scanned a QR code is
not asked to sign in a second time). The page shows the order -- merchant, what for,
amount -- and why it cannot be paid, if it cannot (the merchant does not take the wallet,
the order was paid, closed or expired), before asking for anything. The payment password
then pays it through the same use case as ``POST /v1/payments``
(:func:`ewallet.payments.card_funding.service.pay_order_funded`): same checks in the same
order, one payment per form however often it is posted, and the receipt at
``/pay/receipts/{id}``. When the balance is short and a card is bound, the page offers
"pay the rest with card ****1234" and "pay all with card" (docs/card-payments.md); a card
payment the bank has not answered yet shows "waiting for the bank". A payment
risk control holds for review has no receipt yet: the order page says "under review,
expected by <time>" (then "not approved, the money is back" after a rejection).

A payment risk control challenges (``step_up_required``) goes through the step-up page
(:mod:`ewallet.web.wallet.spend_step_up`): the texted code (or the authenticator's) and the
PIN again, posted back here with the challenge id, which pays once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep
from ewallet.kit.errors import DomainError, NotFoundError, ValidationFailedError
from ewallet.models.card_payments import FundingSource
from ewallet.models.payments import PaymentStatus
from ewallet.payments import service as payments
from ewallet.payments.card_funding import service as card_funding
from ewallet.payments.card_funding.views import FundingChoice
from ewallet.payments.links import order_id_from_text
from ewallet.payments.views import PaymentView
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import Form, PostedForm, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money
from ewallet.web.wallet import spend_step_up
from ewallet.web.wallet.payment_code import receipt_url
from ewallet.web.wallet.register import page_caller

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
    pending: bool = False,
) -> Response:
    choices = await card_funding.payer_choices(services, user.user_id, order_id=order_id)
    shown = choices.shown
    blocked = None if shown.refusal is None else refusal(request, shown.refusal)
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        shown=shown,
        choices=choices,
        blocked=blocked,
        error=error,
        pending=pending,
        link="",
    )


def _funding(form: Form) -> FundingChoice:
    """The source the payer picked: ``balance``, or ``card:<id>`` / ``balance_and_card:<id>``
    (radio buttons, so the form works without JavaScript); anything else is the balance."""
    source, _, card_id = form.text("funding").partition(":")
    if source in (FundingSource.CARD, FundingSource.BALANCE_AND_CARD) and card_id:
        return FundingChoice(FundingSource(source), card_id[:32])
    return FundingChoice()


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


async def _movement(
    request: Request, services: ServicesDep, user: WebUser, form: Form
) -> spend_step_up.Movement:
    """The order as its step-up page shows it and posts it back (read again: the page
    shows what is paid, not what a form claims)."""
    order_id = form.text("order_id")
    order = (await payments.order_for_payer(services, user.user_id, order_id=order_id)).order
    locale = locale_of(request)
    return spend_step_up.Movement(
        action="/pay/order",
        restart=f"/pay/order?order={order.id}",
        summary=(
            (_t("Pay to", locale), order.merchant_name),
            (_t("Amount", locale), money(order.amount.minor, order.amount.currency)),
        ),
        fields={"order_id": order.id, "form_key": form.text("form_key")},
    )


@router.post("/pay/order")
async def pay(
    request: Request, form: PostedForm, user: WebUser, services: ServicesDep, caller: CallerDep
) -> Response:
    """Pay the order with the payment password; the same form posted twice pays once."""
    order_id = form.text("order_id")
    step = spend_step_up.StepUpForm.of(form)
    caller = page_caller(request, caller)
    if step is not None:
        movement = await _movement(request, services, user, form)
        if step.resend:
            return await spend_step_up.resend(
                request, services, caller=caller, user=user, movement=movement, step=step
            )
        try:
            await spend_step_up.prove(services, caller, user, step)
        except DomainError as error:
            return await spend_step_up.step_up_page(
                request,
                services,
                movement,
                challenge_id=step.challenge_id,
                methods=step.methods,
                error=refusal(request, error),
                status_code=error.status,
            )
    try:
        payment = await card_funding.pay_order_funded(
            services,
            actor_of(request, user),
            user_id=user.user_id,
            order_id=order_id,
            pin=form["payment_password"],
            funding=_funding(form),
            caller=caller,
            device_id=user.device_id,
            challenge_id=None if step is None else step.challenge_id,
            request_key=form_request_key(user.user_id, form, "pay-order"),
        )
    except DomainError as error:
        if spend_step_up.challenged(error):
            movement = await _movement(request, services, user, form)
            return await spend_step_up.challenge_page(request, services, movement, error)
        if step is not None and error.code == "payment_password_invalid":
            # The code passed; only the PIN was wrong: ask for it alone.
            return await spend_step_up.step_up_page(
                request,
                services,
                await _movement(request, services, user, form),
                challenge_id=step.challenge_id,
                methods=step.methods,
                proven=True,
                error=refusal(request, error),
                status_code=error.status,
            )
        return await _order_page(
            request,
            services,
            user,
            order_id,
            status_code=error.status,
            error=refusal(request, error),
        )
    return await _paid(request, services, user, payment)


async def _paid(
    request: Request, services: ServicesDep, user: WebUser, payment: PaymentView
) -> Response:
    """Where a payment made from the form leads: its receipt; the order page for one held
    for review (it says until when) or one whose card the bank has not answered for."""
    if payment.status == "pending":
        order_id = payment.order_id
        return await _order_page(request, services, user, order_id, status_code=202, pending=True)
    held = payment.status == PaymentStatus.UNDER_REVIEW
    return see_other(f"/pay/order?order={payment.order_id}" if held else receipt_url(payment.id))
