"""Withdrawing in the browser: ``/withdraw`` (amount and card), ``/withdraw/confirm`` (the
fee, the total and the card, shown before the payment password is asked for), and
``/withdraw/{id}`` (the result: done, processing while the bank has not answered, or not
done with the money back in the wallet).

The same use cases as ``/v1/withdrawals``: the confirmation reads the fee from
:func:`~ewallet.funding.withdrawals.service.quote_withdrawal` (the preview's rule, the fee
charged), and confirming runs :func:`~ewallet.funding.withdrawals.service.withdraw`. The
confirmation form carries a ``form_key``: posted twice, it finds the first withdrawal, so
the money leaves once.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.funding.withdrawals.service import (
    get_withdrawal,
    quote_withdrawal,
    withdraw,
    withdrawal_options,
)
from ewallet.http.deps import ServicesDep
from ewallet.kit.amounts import parse_amount
from ewallet.kit.errors import DomainError
from ewallet.kit.i18n import title
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm, form_request_key
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute
from ewallet.web.kit.templates import money

router = APIRouter(route_class=WebRoute, include_in_schema=False)

FORM: Final = "wallet/withdrawals/form.html"
CONFIRM: Final = "wallet/withdrawals/confirm.html"
RESULT: Final = "wallet/withdrawals/result.html"


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


@router.post("/withdraw/confirm")
async def confirm(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    amount, card_id = form.text("amount"), form.text("card_id")
    try:
        done = await withdraw(
            services,
            user.user_id,
            actor_of(request, user),
            card_id=card_id,
            amount=parse_amount(amount),
            payment_password=form["payment_password"],
            request_key=form_request_key(user.user_id, form, "withdrawal"),
        )
    except DomainError as error:
        message = _withdrawal_refusal(request, error)
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
