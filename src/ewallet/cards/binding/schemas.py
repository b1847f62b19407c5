"""Bound-card requests and responses. A card shows its bank, type and last four only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ewallet.cards.schemas import BankOut
from ewallet.kit.request_model import RequestModel
from ewallet.models.funding import Card


class BindCardIn(RequestModel):
    card_number: str = Field(min_length=1, max_length=40)
    holder_name: str = Field(min_length=1, max_length=60)
    # Required until the account's identity is verified; then it must be the verified one.
    id_number: str | None = Field(default=None, max_length=24)
    bank_phone: str = Field(min_length=1, max_length=32)


class VerifyCardIn(RequestModel):
    verification_code: str = Field(min_length=1, max_length=12)


class UnbindCardIn(RequestModel):
    payment_password: str = Field(min_length=1, max_length=32)


class CardOut(BaseModel):
    id: str
    bank: BankOut
    card_type: str
    last_four: str
    status: str
    bank_phone_masked: str
    created_at: datetime
    verified_at: datetime | None

    @classmethod
    def of(cls, card: Card) -> CardOut:
        return cls(
            id=card.id,
            bank=BankOut(code=card.bank_code, name=card.bank_name),
            card_type=card.card_type,
            last_four=card.last_four,
            status=card.status,
            bank_phone_masked=card.bank_phone_masked,
            created_at=card.created_at,
            verified_at=card.verified_at,
        )


class CardEnvelope(BaseModel):
    card: CardOut


class CardListOut(BaseModel):
    items: list[CardOut]
