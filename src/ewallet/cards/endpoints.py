"""``GET /v1/banks`` and ``POST /v1/cards/lookup`` (signed-in users)."""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.cards.schemas import BankListOut, BankOut, CardLookupIn, CardLookupOut
from ewallet.identity.deps import CurrentUser
from ewallet.kit.bank_cards import lookup_card, supported_banks

router = APIRouter(prefix="/v1", tags=["cards"])


@router.get("/banks", summary="Banks whose cards the wallet knows")
async def get_banks(user: CurrentUser) -> BankListOut:
    return BankListOut(items=[BankOut.of(bank) for bank in supported_banks()])


@router.post("/cards/lookup", summary="Bank and type of a card number (nothing is stored)")
async def post_card_lookup(body: CardLookupIn, user: CurrentUser) -> CardLookupOut:
    number, entry = lookup_card(body.card_number)
    return CardLookupOut.of(number, entry)
