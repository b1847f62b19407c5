"""Paying a shop's printed QR code (收款码): ``/pay/qr/<token>``.

A phone's camera opens the code's URL here. Signed out, the browser is sent to sign in and
comes back (``WebRoute``). The page shows whom the code pays -- the store's name and the
merchant's -- and an amount field (or the code's fixed amount), then pays through the same
use case as ``POST /v1/payments/static-qr``
(:func:`ewallet.payments.static_qr.service.pay_static_qr`): same checks in the same order,
one payment per form however often it is posted, and the receipt at ``/pay/receipts/{id}``
-- or, for a payment risk control holds for review, its order's page (``/pay/order``),
which says "under review, expected by <time>".

The payment password may be left empty when the customer has password-free payments on:
the service then checks the setting and the no-PIN and static-QR limits, and answers
``step_up_required`` when the PIN is needed after all -- the page then asks for it, keeping
the amount. A code that does not pay (regenerated, unknown, its merchant disabled) is
explained before anything is asked.

A payment risk control challenges (``step_up_required`` with a ``challenge_id``, whether or
not the PIN was typed) goes through the step-up page
(:mod:`ewallet.web.wallet.spend_step_up`): the texted code (or the authenticator's) and the
PIN -- always, even for a payment that was to go without it: a challenged payment is
confirmed with both -- posted back here with the challenge id, which pays once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.kit.money import Money
from ewallet.models.payments import PaymentStatus
from ewallet.payments.static_qr import service
from ewallet.payments.static_qr.deps import MerchantWakeup
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import Form, PostedForm, amount_minor_or_none, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, see_other
from ewallet.web.kit.refusals import money_refusal
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money
from ewallet.web.wallet import spend_step_up
from ewallet.web.wallet.payment_code import receipt_url
from ewallet.web.wallet.register import page_caller

router = APIRouter(route_class=WebRoute, include_in_schema=False)

TEMPLATE = "wallet/static_qr/pay.html"
PURPOSE = "static-qr"


def _refusal(request: Request, error: DomainError) -> str:
    locale = locale_of(request)
    if error.code == "not_found":
        return _t(
            "This QR code does not take payments any more. Ask the shop for its current code.",
            locale,
        )
    if error.code == "step_up_required":
        return _t("Enter your payment password to confirm this payment.", locale)
    if error.code == "validation_error" and error.extra.get("field") == "amount":
        return _t("Enter the amount to pay, as on the shop's till.", locale)
    return money_refusal(request, error)


async def _pay_page(
    request: Request,
    services: ServicesDep,
    user: WebUser,
    token: str,
    *,
    amount: str = "",
    error: DomainError | None = None,
) -> Response:
    """The page for ``token``: the payee and the form, or why the code cannot be paid."""
    try:
        screen = await service.describe(services, user_id=user.user_id, token=token)
    except DomainError as refused:
        return await page(
            request,
            services,
            TEMPLATE,
            status_code=refused.status,
            screen=None,
            blocked=_refusal(request, refused),
            error=None,
            amount="",
            token=token,
            pin_needed=True,
        )
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=200 if error is None else error.status,
        screen=screen,
        blocked=None,
        error=None if error is None else _refusal(request, error),
        amount=amount,
        token=token,
        # Without password-free payments, or once the service asked for it: the PIN field
        # is required; otherwise it may be left empty.
        pin_needed=not screen.password_free
        or (error is not None and error.code == "step_up_required"),
    )


@router.get("/pay/qr/{token}")
async def static_qr_page(
    token: str, request: Request, user: WebUser, services: ServicesDep
) -> Response:
    return await _pay_page(request, services, user, token)


async def _movement(
    request: Request, services: ServicesDep, token: str, form: Form
) -> spend_step_up.Movement:
    """The payment as its step-up page shows it and posts it back: whom the code pays read
    again (``not_found`` if it was regenerated meanwhile), the code's own amount or the one
    typed."""
    locale = locale_of(request)
    target = await service.find_target(services, token=token)
    typed = form.text("amount")
    if target.fixed_amount is not None:
        shown = money(target.fixed_amount.minor, target.fixed_amount.currency)
    else:
        minor = amount_minor_or_none(typed)
        shown = typed if minor is None else money(minor)
    return spend_step_up.Movement(
        action=f"/pay/qr/{token}",
        restart=f"/pay/qr/{token}",
        summary=((_t("Pay to", locale), target.payee_name), (_t("Amount", locale), shown)),
        fields={"amount": typed, "form_key": form.text("form_key")},
    )


@router.post("/pay/qr/{token}")
async def pay(
    *,
    token: str,
    request: Request,
    form: PostedForm,
    user: WebUser,
    services: ServicesDep,
    wakeup: MerchantWakeup,
    caller: CallerDep,
) -> Response:
    """Pay with the amount typed (or the code's own) and the PIN, or password-free; a
    step-up form proves its code first (module doc)."""
    typed = form.text("amount")
    step = spend_step_up.StepUpForm.of(form)
    caller = page_caller(request, caller)
    try:
        if step is not None:
            answer = await spend_step_up.before_moving(
                request,
                services,
                caller=caller,
                user=user,
                movement=await _movement(request, services, token, form),
                step=step,
            )
            if answer is not None:
                return answer
        amount: Money | None = parse_amount(typed) if typed else None
        payment = await service.pay_static_qr(
            services,
            actor_of(request, user),
            user_id=user.user_id,
            token=token,
            amount=amount,
            payment_password=form["payment_password"] or None,
            request_key=form_request_key(user.user_id, form, PURPOSE),
            caller=caller,
            device_id=user.device_id,
            challenge_id=None if step is None else step.challenge_id,
            announce=wakeup,
        )
    except DomainError as error:
        if spend_step_up.answers(error, step):
            try:
                movement = await _movement(request, services, token, form)
            except DomainError as gone:  # the code stopped paying meanwhile: say so
                return await _pay_page(request, services, user, token, amount=typed, error=gone)
            message = _refusal(request, error)
            return await spend_step_up.refused_page(
                request, services, movement, error, step, message=message
            )
        return await _pay_page(request, services, user, token, amount=typed, error=error)
    held = payment.status == PaymentStatus.UNDER_REVIEW  # the order page says until when
    return see_other(f"/pay/order?order={payment.order_id}" if held else receipt_url(payment.id))
