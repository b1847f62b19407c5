"""The bank-card BIN table: which bank issued a card, of which type, and is it valid.

Built from ``data/bin.csv`` and ``data/name.csv`` (facts from the public bcbc data set,
MIT licence; see NOTICE). A prefix of 3 to 10 digits identifies the issuer *together with
the card's length*: a few prefixes belong to two banks whose cards differ in length, so
the lookup takes the longest prefix that exists for the number's own length.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Final

from ewallet.kit.errors import DomainError


class CardInvalidError(DomainError):
    """Unknown BIN, a length its BIN does not have, a Luhn failure, or not a card number."""

    code = "card_invalid"
    status = 422


MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 19


class CardType(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"
    QUASI_CREDIT = "quasi_credit"
    PREPAID = "prepaid"


_TYPES: Final = {
    "DC": CardType.DEBIT,
    "CC": CardType.CREDIT,
    "SCC": CardType.QUASI_CREDIT,
    "PC": CardType.PREPAID,
}


@dataclass(frozen=True, slots=True)
class Bank:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class CardBin:
    bin: str
    bank: Bank
    card_type: CardType
    length: int


@dataclass(frozen=True, slots=True)
class BinTable:
    by_prefix_and_length: dict[tuple[str, int], CardBin]
    prefix_lengths: tuple[int, ...]
    banks: dict[str, Bank]

    def match(self, number: str) -> CardBin | None:
        """The entry of the longest prefix of ``number`` that exists for its length."""
        for size in self.prefix_lengths:  # longest first
            found = self.by_prefix_and_length.get((number[:size], len(number)))
            if found is not None:
                return found
        return None


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("ewallet.kit.data.bank_cards").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def bin_table() -> BinTable:
    names = {row["bank"]: row["name"] for row in _read("name.csv")}
    entries: dict[tuple[str, int], CardBin] = {}
    banks: dict[str, Bank] = {}
    for row in _read("bin.csv"):
        code = row["bank"]
        bank = banks.setdefault(code, Bank(code=code, name=names.get(code, code)))
        entry = CardBin(
            bin=row["bin"], bank=bank, card_type=_TYPES[row["type"]], length=int(row["length"])
        )
        entries[(entry.bin, entry.length)] = entry
    sizes = tuple(sorted({len(prefix) for prefix, _ in entries}, reverse=True))
    return BinTable(by_prefix_and_length=entries, prefix_lengths=sizes, banks=banks)


def normalize_card_number(raw: str) -> str:
    """ASCII digits only: full-width digits folded, spaces and dashes dropped; else refused."""
    if not isinstance(raw, str):
        raise CardInvalidError("card number must be a string", reason="not_a_number")
    folded = unicodedata.normalize("NFKC", raw)
    compact = "".join(ch for ch in folded if ch not in " -\t")
    if not compact.isascii() or not compact.isdigit():
        raise CardInvalidError("card number must be digits", reason="not_a_number")
    if not MIN_LENGTH <= len(compact) <= MAX_LENGTH:
        raise CardInvalidError("card number has the wrong length", reason="wrong_length")
    return compact


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def lookup_card(raw: str) -> tuple[str, CardBin]:
    """The normalized number and its BIN entry; ``card_invalid`` with a reason otherwise."""
    number = normalize_card_number(raw)
    table = bin_table()
    entry = table.match(number)
    if entry is None:
        known_prefix = any(
            prefix == number[: len(prefix)] for prefix, _ in table.by_prefix_and_length
        )
        reason = "wrong_length" if known_prefix else "unknown_bin"
        raise CardInvalidError("card number not recognised", reason=reason)
    # UnionPay and the international schemes in the table all use the Luhn check digit.
    if not luhn_valid(number):
        raise CardInvalidError("card number check digit is wrong", reason="luhn")
    return number, entry


def supported_banks() -> list[Bank]:
    """Banks with at least one card in the table, by code."""
    return sorted(bin_table().banks.values(), key=lambda bank: bank.code)
