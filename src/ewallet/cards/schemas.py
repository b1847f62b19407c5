"""Bank and card-lookup responses. A full card number is never echoed back."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ewallet.kit.bank_cards import Bank, CardBin, CardType
from ewallet.kit.request_model import RequestModel


class BankOut(BaseModel):
    code: str
    name: str

    @classmethod
    def of(cls, bank: Bank) -> BankOut:
        return cls(code=bank.code, name=bank.name)


class BankListOut(BaseModel):
    items: list[BankOut]


class CardLookupIn(RequestModel):
    card_number: str = Field(min_length=1, max_length=40)


class CardLookupOut(BaseModel):
    bank: BankOut
    card_type: CardType
    bin: str
    last_four: str
    length: int
    # Top-up and withdrawal need a debit card; other types can be looked up, not used there.
    supported_for_funding: bool

    @classmethod
    def of(cls, number: str, entry: CardBin) -> CardLookupOut:
        return cls(
            bank=BankOut.of(entry.bank),
            card_type=entry.card_type,
            bin=entry.bin,
            last_four=number[-4:],
            length=entry.length,
            supported_for_funding=entry.card_type is CardType.DEBIT,
        )
