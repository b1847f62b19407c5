"""``/v1/me/cards``: bind a card (the bank texts a code), confirm it, list, unbind."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ewallet.audit.service import Actor
from ewallet.cards.binding import service
from ewallet.cards.binding.schemas import (
    BindCardIn,
    CardEnvelope,
    CardListOut,
    CardOut,
    UnbindCardIn,
    VerifyCardIn,
)
from ewallet.http.deps import ServicesDep
from ewallet.identity.deps import CurrentUser, Principal

router = APIRouter(prefix="/v1", tags=["cards"])


def _actor(request: Request, user: Principal) -> Actor:
    return Actor("user", user.user_id, request.client.host if request.client else None)


@router.post("/me/cards", status_code=202, summary="Start binding a debit card")
async def post_card(
    body: BindCardIn, user: CurrentUser, services: ServicesDep, request: Request
) -> CardEnvelope:
    card = await service.start_binding(
        services,
        user.user_id,
        _actor(request, user),
        request=service.BindingRequest(
            card_number=body.card_number,
            holder_name=body.holder_name,
            id_number=body.id_number,
            bank_phone=body.bank_phone,
        ),
    )
    return CardEnvelope(card=CardOut.of(card))


@router.post("/me/cards/{card_id}/verify", summary="Confirm a binding with the bank's code")
async def post_card_verify(
    card_id: str, body: VerifyCardIn, user: CurrentUser, services: ServicesDep, request: Request
) -> CardEnvelope:
    card = await service.confirm_binding(
        services,
        user.user_id,
        _actor(request, user),
        card_id=card_id,
        code=body.verification_code,
    )
    return CardEnvelope(card=CardOut.of(card))


@router.get("/me/cards", summary="Bound cards (pending and active), newest first")
async def get_cards(user: CurrentUser, services: ServicesDep) -> CardListOut:
    found = await service.list_cards(services, user.user_id)
    return CardListOut(items=[CardOut.of(card) for card in found])


@router.post("/me/cards/{card_id}/unbind", status_code=204, summary="Unbind a card")
async def post_card_unbind(
    *,
    card_id: str,
    body: UnbindCardIn,
    user: CurrentUser,
    services: ServicesDep,
    request: Request,
) -> Response:
    await service.unbind_card(
        services,
        user.user_id,
        _actor(request, user),
        card_id=card_id,
        payment_password=body.payment_password,
    )
    return Response(status_code=204)
