"""Withdrawing in the browser: ``/withdraw`` (amount and card), ``/withdraw/confirm`` (the
fee, the total and the card, shown before the payment password is asked for), and
``/withdraw/{id}`` (the result: done, processing while the bank has not answered, or not
done with the money back in the wallet).

The same use cases as ``/v1/withdrawals``: the confirmation reads the fee from
:func:`~ewallet.funding.withdrawals.service.quote_withdrawal` (the preview's rule, the fee
charged), and confirming runs :func:`~ewallet.funding.withdrawals.service.withdraw`. The
confirmation form carries a ``form_key``: posted twice, it finds the first withdrawal, so
the money leaves once.

A withdrawal risk control challenges (``step_up_required``) goes through the step-up page
(:mod:`ewallet.web.wallet.spend_step_up`): the texted code (or the authenticator's) and the
PIN again, posted back to ``/withdraw/confirm`` with the challenge id, which pays out once.

A transfer to another person's bank card (docs/card-transfers.md) is a withdrawal too:
``/transfer/card`` (card number, the holder's name, amount, arrival) posts to
``/transfer/card/confirm`` (the bank, the last four, the fee and total before the PIN), which
posts to ``/transfer/card/send`` (``transfer_to_card``; the bank checks the name) and shows
``/card-transfers/{id}``, with a Cancel button while a delayed one waits. A risk challenge
there is answered with its refusal (no step-up page yet): the API takes the step-up.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final
from urllib.parse import quote_plus

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.funding.withdrawals.card_transfers.service import (
    cancel_card_transfer,
    get_card_transfer,
    preview_card_transfer,
    transfer_to_card,
)
from ewallet.funding.withdrawals.service import (
    get_withdrawal,
    quote_withdrawal,
    withdraw,
    withdrawal_options,
)
from ewallet.http.deps import ServicesDep
from ewallet.identity.runtime import CallerDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError, ValidationFailedError
from ewallet.kit.i18n import title
from ewallet.models.transfers import Arrival
from ewallet.transfers.arrival.service import transfer_settings
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import Form, PostedForm, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money
from ewallet.web.wallet import spend_step_up
from ewallet.web.wallet.register import page_caller

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FORM: Final = "wallet/withdrawals/form.html"
CONFIRM: Final = "wallet/withdrawals/confirm.html"
RESULT: Final = "wallet/withdrawals/result.html"
CARD_FORM: Final = "wallet/withdrawals/card_form.html"
CARD_CONFIRM: Final = "wallet/withdrawals/card_confirm.html"
CARD_RESULT: Final = "wallet/withdrawals/card_result.html"
ARRIVALS: Final = tuple(arrival.value for arrival in Arrival)


@router.get("/withdraw")
async def withdraw_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    card_id: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    options = await withdrawal_options(services, user.user_id)
    return await page(request, services, FORM, options=options, amount="", chosen=card_id)


@router.get("/withdraw/confirm")
async def confirm_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    amount: Annotated[str, Query(max_length=20)] = "",
    card_id: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The fee preview: what confirming costs now, before the payment password. Reads only
    (a GET: going back or reloading is harmless)."""
    try:
        quote = await quote_withdrawal(
            services, user.user_id, card_id=card_id, amount=parse_amount(amount.strip())
        )
    except DomainError as error:
        options = await withdrawal_options(services, user.user_id)
        return await page(
            request,
            services,
            FORM,
            status_code=error.status,
            options=options,
            amount=amount,
            chosen=card_id,
            error=refusal(request, error),
        )
    return await page(request, services, CONFIRM, quote=quote, amount=amount.strip())


async def _movement(
    request: Request, services: ServicesDep, user: WebUser, form: Form
) -> spend_step_up.Movement:
    """The withdrawal as its step-up page shows it and posts it back: the card and the fee
    read again (the quote), so the page shows what confirming takes from the wallet."""
    locale = locale_of(request)
    amount, card_id = form.text("amount"), form.text("card_id")
    summary: tuple[tuple[str, str], ...]
    try:
        quote = await quote_withdrawal(
            services, user.user_id, card_id=card_id, amount=parse_amount(amount)
        )
    except DomainError:  # the card or the amount no longer fits: the withdrawal says why
        summary = ((_t("Amount to the card", locale), amount),)
    else:
        card, fees = quote.card, quote.quote
        ending = _t("ending in %(digits)s", locale) % {"digits": card.last_four}
        summary = (
            (_t("Withdraw to", locale), f"{card.bank_name} · {ending}"),
            (_t("Amount to the card", locale), money(fees.amount.minor, fees.amount.currency)),
            (_t("Taken from your wallet", locale), money(fees.total.minor, fees.total.currency)),
        )
    return spend_step_up.Movement(
        action="/withdraw/confirm",
        restart=f"/withdraw?card_id={quote_plus(card_id)}",
        summary=summary,
        fields={"amount": amount, "card_id": card_id, "form_key": form.text("form_key")},
    )


@router.post("/withdraw/confirm")
async def confirm(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    amount, card_id = form.text("amount"), form.text("card_id")
    step = spend_step_up.StepUpForm.of(form)
    caller = page_caller(request, caller)
    if step is not None:
        answer = await spend_step_up.before_moving(
            request,
            services,
            caller=caller,
            user=user,
            movement=await _movement(request, services, user, form),
            step=step,
        )
        if answer is not None:
            return answer
    try:
        done = await withdraw(
            services,
            user.user_id,
            actor_of(request, user),
            card_id=card_id,
            amount=parse_amount(amount),
            payment_password=form["payment_password"],
            caller=caller,
            request_key=form_request_key(user.user_id, form, "withdrawal"),
            device_id=user.device_id,
            challenge_id=None if step is None else step.challenge_id,
        )
    except DomainError as error:
        message = _withdrawal_refusal(request, error)
        if spend_step_up.answers(error, step):
            movement = await _movement(request, services, user, form)
            return await spend_step_up.refused_page(
                request, services, movement, error, step, message=message
            )
        # The confirmation again, with the fee as it stands now (a read), and the refusal.
        try:
            quote = await quote_withdrawal(
                services, user.user_id, card_id=card_id, amount=parse_amount(amount)
            )
        except DomainError:
            options = await withdrawal_options(services, user.user_id)
            return await page(
                request,
                services,
                FORM,
                status_code=error.status,
                options=options,
                amount=amount,
                chosen=card_id,
                error=message,
            )
        return await page(
            request,
            services,
            CONFIRM,
            status_code=error.status,
            quote=quote,
            amount=amount,
            error=message,
        )
    return see_other(f"/withdraw/{done.id}")


def _withdrawal_refusal(request: Request, error: DomainError) -> str:
    """The refusal in the reader's words; a limit says how much it still allows."""
    if error.code != "limit_exceeded":
        return refusal(request, error)
    locale = locale_of(request)
    remaining: Any = error.extra.get("remaining") or {}
    amount = remaining.get("amount") if isinstance(remaining, dict) else None
    if not isinstance(amount, str):
        return refusal(request, error)
    try:
        shown = money(int(Decimal(amount) * 100))
    except (InvalidOperation, ValueError):
        return refusal(request, error)
    if error.extra.get("limit") == "per_transaction":
        text = _t("One withdrawal can be at most %(amount)s.", locale)
    else:
        text = _t("Your limits allow %(amount)s more today.", locale)
    separator = ": " if locale == "en" else "："
    return title(error.code, locale) + separator + text % {"amount": shown}


@router.get("/withdraw/{withdrawal_id}")
async def result_page(
    request: Request, withdrawal_id: str, user: WebUser, services: ServicesDep
) -> Response:
    found = await get_withdrawal(services, user.user_id, withdrawal_id=withdrawal_id)
    return await page(request, services, RESULT, withdrawal=found)


# ------------------------------------------------------------------ to another person's card


def _card_typed(form: Form) -> dict[str, str]:
    """What the person typed (never the PIN), to show it again."""
    arrival = form.text("arrival")
    return {
        "card_number": form.text("card_number"),
        "payee_name": form.text("payee_name"),
        "amount": form.text("amount"),
        "arrival": arrival if arrival in ARRIVALS else Arrival.REALTIME.value,
    }


def _card_refusal(request: Request, error: DomainError) -> str:
    if error.code == "payee_name_mismatch":
        return _t(
            "The bank says this name is not the card's holder. Check both with them.",
            locale_of(request),
        )
    return _withdrawal_refusal(request, error)


async def _card_form(
    request: Request,
    services: ServicesDep,
    typed: dict[str, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return await page(
        request,
        services,
        CARD_FORM,
        status_code=status_code,
        error=error,
        arrivals=ARRIVALS,
        typed=typed,
    )


@router.get("/transfer/card")
async def card_transfer_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    default = (await transfer_settings(services, user.user_id)).default_arrival
    typed = {"card_number": "", "payee_name": "", "amount": "", "arrival": default}
    return await _card_form(request, services, typed)


@router.get("/transfer/card/confirm")
@router.get("/transfer/card/send")
async def card_transfer_reloaded(user: WebUser) -> Response:
    """The confirmation and the refusal answer a post: opened by their address (a reload
    that does not post again) they start over at the form."""
    return see_other("/transfer/card")


@router.post("/transfer/card/confirm")
async def card_transfer_confirm(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    typed = _card_typed(form)
    try:
        if not typed["payee_name"]:
            raise ValidationFailedError("the payee's name is missing", field="payee_name")
        preview = await preview_card_transfer(
            services,
            user.user_id,
            card_number=typed["card_number"],
            amount=parse_amount(typed["amount"]),
        )
    except DomainError as error:
        return await _card_form(
            request, services, typed, error=_card_refusal(request, error), status_code=error.status
        )
    return await page(request, services, CARD_CONFIRM, preview=preview, typed=typed)


@router.post("/transfer/card/send")
async def card_transfer_send(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep, caller: CallerDep
) -> Response:
    typed = _card_typed(form)
    try:
        done = await transfer_to_card(
            services,
            user.user_id,
            actor_of(request, user),
            card_number=typed["card_number"],
            payee_name=typed["payee_name"],
            amount=parse_amount(typed["amount"]),
            payment_password=form["payment_password"],
            caller=page_caller(request, caller),
            arrival=Arrival(typed["arrival"]),
            request_key=form_request_key(user.user_id, form, "card_transfer"),
            device_id=user.device_id,
        )
    except DomainError as error:
        return await _card_form(
            request, services, typed, error=_card_refusal(request, error), status_code=error.status
        )
    return see_other(f"/card-transfers/{done.id}")


@router.get("/card-transfers/{transfer_id}")
async def card_transfer_result(
    request: Request, transfer_id: str, user: WebUser, services: ServicesDep
) -> Response:
    found = await get_card_transfer(services, user.user_id, transfer_id=transfer_id)
    return await page(request, services, CARD_RESULT, transfer=found)


@router.post("/card-transfers/{transfer_id}/cancel")
async def card_transfer_cancel(
    request: Request, transfer_id: str, form: PostedForm, user: WebUser, services: ServicesDep
) -> Response:
    """Cancel on a scheduled card transfer's page: the money back, the page again."""
    try:
        await cancel_card_transfer(services, user_id=user.user_id, transfer_id=transfer_id)
    except DomainError as error:
        if error.code == "not_found":
            raise
        found = await get_card_transfer(services, user.user_id, transfer_id=transfer_id)
        return await page(
            request,
            services,
            CARD_RESULT,
            status_code=error.status,
            transfer=found,
            error=refusal(request, error),
        )
    return see_other(f"/card-transfers/{transfer_id}")
