"""Bank cards in the browser: ``/cards`` (the list, masked), ``/cards/new`` (bind: the bank
texts a code to the card's phone), ``/cards/{id}/verify`` (enter it) and ``/cards/{id}``
(the card; posted with the payment password, unbinds it).

The same use cases as ``/v1/me/cards`` (:mod:`ewallet.cards.binding.service`): the card
number is checked against the BIN table, only debit cards are taken, the holder's details
go to the bank, and the wallet keeps the bank, type and last four digits only. Another
user's card id, or a card no longer bound, is ``not_found`` (a 404 page).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ewallet.cards.binding import service as binding
from ewallet.http.deps import ServicesDep
from ewallet.kit.bank_cards import lookup_card
from ewallet.kit.errors import DomainError
from ewallet.web.kit.auth import WebUser, actor_of
from ewallet.web.kit.forms import PostedForm
from ewallet.web.kit.i18n import translate as _t
from ewallet.web.kit.pages import locale_of, page, refusal, see_other
from ewallet.web.kit.routing import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LIST: Final = "wallet/cards/list.html"
NEW: Final = "wallet/cards/new.html"
VERIFY: Final = "wallet/cards/verify.html"
CARD: Final = "wallet/cards/card.html"
LOOKUP: Final = "wallet/cards/lookup.html"
BIND_FIELDS: Final = ("card_number", "holder_name", "id_number", "bank_phone")


@router.get("/cards")
async def cards_page(
    request: Request,
    user: WebUser,
    services: ServicesDep,
    unbound: Annotated[bool, Query()] = False,
) -> Response:
    found = await binding.list_cards(services, user.user_id)
    return await page(request, services, LIST, cards=found, unbound=unbound)


@router.get("/cards/new")
async def new_card_page(request: Request, user: WebUser, services: ServicesDep) -> Response:
    return await page(request, services, NEW, values=dict.fromkeys(BIND_FIELDS, ""))


@router.post("/cards/new")
async def bind_card(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    values = {name: form.text(name) for name in BIND_FIELDS}
    try:
        card = await binding.start_binding(
            services,
            user.user_id,
            actor_of(request, user),
            request=binding.BindingRequest(
                card_number=values["card_number"],
                holder_name=values["holder_name"],
                id_number=values["id_number"] or None,
                bank_phone=values["bank_phone"],
            ),
        )
    except DomainError as error:
        return await page(
            request,
            services,
            NEW,
            status_code=error.status,
            values=values,
            error=_binding_refusal(request, error),
        )
    return see_other(f"/cards/{card.id}/verify")


def _binding_refusal(request: Request, error: DomainError) -> str:
    if error.code == "validation_error":  # the one field the form cannot mark as required
        return _t(
            "Enter the card holder's ID number: the bank needs it until your real name "
            "is verified in the wallet.",
            locale_of(request),
        )
    return refusal(request, error)


@router.post("/cards/lookup")
async def lookup(
    request: Request, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    """The bank and type of the number typed so far (htmx, as the user types); nothing is
    stored. Too short to tell yet: an empty hint."""
    typed = form.text("card_number")
    digits = sum(ch.isdigit() for ch in typed)
    found = None
    invalid = False
    if digits >= 16:
        try:
            _, found = lookup_card(typed)
        except DomainError:
            invalid = True
    return await page(request, services, LOOKUP, found=found, invalid=invalid)


@router.get("/cards/{card_id}/verify")
async def verify_page(
    request: Request, card_id: str, user: WebUser, services: ServicesDep
) -> Response:
    card = await binding.get_card(services, user.user_id, card_id=card_id)
    if card.status == "active":
        return see_other(f"/cards/{card.id}")
    return await page(request, services, VERIFY, card=card, dead=False)


@router.post("/cards/{card_id}/verify")
async def verify(
    request: Request, card_id: str, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    try:
        card = await binding.confirm_binding(
            services, user.user_id, actor_of(request, user), card_id=card_id, code=form.text("code")
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        message = refusal(request, error)
        remaining = error.extra.get("remaining_attempts")
        if isinstance(remaining, int):
            message += " " + _t("Attempts left: %(n)s", locale_of(request)) % {"n": remaining}
        # A binding the bank ended (too many wrong codes) can only be started again.
        dead = error.code in ("too_many_attempts", "conflict", "verification_code_expired")
        shown = None if dead else await binding.get_card(services, user.user_id, card_id=card_id)
        return await page(
            request,
            services,
            VERIFY,
            status_code=error.status,
            card=shown,
            dead=dead,
            error=message,
        )
    return see_other(f"/cards/{card.id}?bound=1")


@router.get("/cards/{card_id}")
async def card_page(
    request: Request,
    card_id: str,
    user: WebUser,
    services: ServicesDep,
    bound: Annotated[bool, Query()] = False,
) -> Response:
    card = await binding.get_card(services, user.user_id, card_id=card_id)
    return await page(request, services, CARD, card=card, bound=bound)


@router.post("/cards/{card_id}")
async def unbind(
    request: Request, card_id: str, user: WebUser, form: PostedForm, services: ServicesDep
) -> Response:
    try:
        await binding.unbind_card(
            services,
            user.user_id,
            actor_of(request, user),
            card_id=card_id,
            payment_password=form["payment_password"],
        )
    except DomainError as error:
        if error.code == "not_found":
            raise
        card = await binding.get_card(services, user.user_id, card_id=card_id)
        return await page(
            request,
            services,
            CARD,
            status_code=error.status,
            card=card,
            bound=False,
            error=refusal(request, error),
        )
    return see_other("/cards?unbound=1")
