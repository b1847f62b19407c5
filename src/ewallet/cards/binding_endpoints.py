"""``/v1/me/cards``: bind a card (the bank texts a code), confirm it, list, unbind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ewallet.audit.service import Actor
from ewallet.cards import binding
from ewallet.cards.binding_schemas import (
    BindCardIn,
    CardEnvelope,
    CardListOut,
    CardOut,
    UnbindCardIn,
    VerifyCardIn,
)
from ewallet.http.deps import ClockDep, EngineDep
from ewallet.identity.deps import CurrentUser, Principal, SecurityDep
from ewallet.identity.payment_password.service import PaymentPasswordDep
from ewallet.integrations.bank.wiring import gateway_from_app

router = APIRouter(prefix="/v1", tags=["cards"])


def card_services(
    request: Request, engine: EngineDep, clock: ClockDep, security: SecurityDep
) -> binding.CardServices:
    return binding.CardServices(engine, clock, security, gateway_from_app(request.app))


ServicesDep = Annotated[binding.CardServices, Depends(card_services)]


def _actor(request: Request, user: Principal) -> Actor:
    return Actor("user", user.user_id, request.client.host if request.client else None)


@router.post("/me/cards", status_code=202, summary="Start binding a debit card")
async def post_card(
    body: BindCardIn, user: CurrentUser, services: ServicesDep, request: Request
) -> CardEnvelope:
    card = await binding.start_binding(
        services,
        user_id=user.user_id,
        request=binding.BindingRequest(
            card_number=body.card_number,
            holder_name=body.holder_name,
            id_number=body.id_number,
            bank_phone=body.bank_phone,
        ),
        actor=_actor(request, user),
    )
    return CardEnvelope(card=CardOut.of(card))


@router.post("/me/cards/{card_id}/verify", summary="Confirm a binding with the bank's code")
async def post_card_verify(
    card_id: str, body: VerifyCardIn, user: CurrentUser, services: ServicesDep, request: Request
) -> CardEnvelope:
    card = await binding.confirm_binding(
        services,
        user_id=user.user_id,
        card_id=card_id,
        code=body.verification_code,
        actor=_actor(request, user),
    )
    return CardEnvelope(card=CardOut.of(card))


@router.get("/me/cards", summary="Bound cards (pending and active), newest first")
async def get_cards(user: CurrentUser, engine: EngineDep) -> CardListOut:
    found = await binding.list_cards(engine, user_id=user.user_id)
    return CardListOut(items=[CardOut.of(card) for card in found])


@router.post("/me/cards/{card_id}/unbind", status_code=204, summary="Unbind a card")
async def post_card_unbind(
    *,
    card_id: str,
    body: UnbindCardIn,
    user: CurrentUser,
    pin: PaymentPasswordDep,
    services: ServicesDep,
    request: Request,
) -> Response:
    await pin.verify(user, body.payment_password)
    await binding.unbind_card(
        services, user_id=user.user_id, card_id=card_id, actor=_actor(request, user)
    )
    return Response(status_code=204)
