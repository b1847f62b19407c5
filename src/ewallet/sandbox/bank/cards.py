"""The sandbox bank's test cards and the behaviours that make its answers predictable.

Every number carries a real BIN from the wallet's table and a valid Luhn digit, so the
wallet's own card checks accept it; every ID number has a valid check character. A card's
behaviour decides what its debits and credits do; on an approving card, the fen part of
the amount chooses a behaviour instead (``xx.51`` times out, ...), so any flow can be
driven into any failure with the card a tester already has bound. Same inputs, same
outcome: nothing here is random.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ewallet.kit.bank_cards import lookup_card


class Behaviour(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"  # refused: reason do_not_honor
    INSUFFICIENT_FUNDS = "insufficient_funds"  # debits refused whatever the balance
    TIMEOUT = "timeout"  # nothing is committed; the answer comes after the client gave up
    SLOW = "slow"  # processed normally, answered after a delay shorter than the timeout
    ERROR_AFTER_COMMIT = "error_after_commit"  # money moved, then a 500 answer
    DROP_AFTER_COMMIT = "drop_after_commit"  # money moved, then the connection breaks


# On approving cards, amounts whose fen part (amount_fen % 100) is listed behave so.
AMOUNT_BEHAVIOURS: Final[dict[int, Behaviour]] = {
    51: Behaviour.TIMEOUT,
    52: Behaviour.ERROR_AFTER_COMMIT,
    53: Behaviour.DECLINE,
    54: Behaviour.INSUFFICIENT_FUNDS,
    55: Behaviour.SLOW,
    56: Behaviour.DROP_AFTER_COMMIT,
}

DECLINE_REASON: Final = "do_not_honor"
INSUFFICIENT_FUNDS_REASON: Final = "insufficient_funds"


def behaviour_for(card_behaviour: Behaviour, amount_fen: int) -> Behaviour:
    """The behaviour of one debit or credit: the card's, or the amount's on approving cards."""
    if card_behaviour is Behaviour.APPROVE:
        return AMOUNT_BEHAVIOURS.get(amount_fen % 100, Behaviour.APPROVE)
    return card_behaviour


@dataclass(frozen=True, slots=True)
class SandboxCard:
    """A test card and the account behind it, as the bank knows them."""

    number: str
    holder_name: str
    id_number: str
    bank_phone: str  # mainland mobile number the bank texts binding codes to
    opening_balance_fen: int
    behaviour: Behaviour
    note: str

    @property
    def bank_code(self) -> str:
        return lookup_card(self.number)[1].bank.code

    @property
    def bank_name(self) -> str:
        return lookup_card(self.number)[1].bank.name

    @property
    def card_type(self) -> str:
        return str(lookup_card(self.number)[1].card_type)


TEST_CARDS: Final[tuple[SandboxCard, ...]] = (
    SandboxCard(
        number="6212260200001234562",
        holder_name="张伟",
        id_number="110101198503121239",
        bank_phone="13800138001",
        opening_balance_fen=10_000_000,
        behaviour=Behaviour.APPROVE,
        note="ICBC debit, approves",
    ),
    SandboxCard(
        number="6210811000023456781",
        holder_name="王芳",
        id_number="310104199007152344",
        bank_phone="13800138002",
        opening_balance_fen=5_000_000,
        behaviour=Behaviour.APPROVE,
        note="CCB debit, approves",
    ),
    SandboxCard(
        number="6212820000034567894",
        holder_name="李娜",
        id_number="440305198801013458",
        bank_phone="13800138003",
        opening_balance_fen=2_000_000,
        behaviour=Behaviour.APPROVE,
        note="ABC debit, approves",
    ),
    SandboxCard(
        number="6212560100045678906",
        holder_name="刘洋",
        id_number="330106199202204564",
        bank_phone="13800138004",
        opening_balance_fen=800_000,
        behaviour=Behaviour.APPROVE,
        note="BOC debit, approves",
    ),
    SandboxCard(
        number="3568850012345670",
        holder_name="陈静",
        id_number="37020219860808901X",
        bank_phone="13800138005",
        opening_balance_fen=3_000_000,
        behaviour=Behaviour.APPROVE,
        note="CMB credit card, approves; the balance is the available credit",
    ),
    SandboxCard(
        number="6210568010005678901",
        holder_name="杨磊",
        id_number="510107198709095673",
        bank_phone="13800138006",
        opening_balance_fen=1_000_000,
        behaviour=Behaviour.DECLINE,
        note="COMM debit, every debit and credit declined (do_not_honor)",
    ),
    SandboxCard(
        number="6210950000067890128",
        holder_name="赵敏",
        id_number="320102199505056784",
        bank_phone="13800138007",
        opening_balance_fen=1_200,
        behaviour=Behaviour.INSUFFICIENT_FUNDS,
        note="PSBC debit, debits declined (insufficient_funds); credits approve",
    ),
    SandboxCard(
        number="6212750000078901235",
        holder_name="黄强",
        id_number="420103198311117898",
        bank_phone="13800138008",
        opening_balance_fen=1_000_000,
        behaviour=Behaviour.TIMEOUT,
        note="SPDB debit, times out; nothing is committed",
    ),
    SandboxCard(
        number="6205270000089012340",
        holder_name="周杰",
        id_number="350203199106068902",
        bank_phone="13800138009",
        opening_balance_fen=1_000_000,
        behaviour=Behaviour.SLOW,
        note="CITIC debit, approves after a delay shorter than the timeout",
    ),
    SandboxCard(
        number="6200850000090129",
        holder_name="吴霞",
        id_number="120101199303030128",
        bank_phone="13800138010",
        opening_balance_fen=1_000_000,
        behaviour=Behaviour.ERROR_AFTER_COMMIT,
        note="CEB debit, moves the money and then answers 500",
    ),
    SandboxCard(
        number="438588000010123455",
        holder_name="孙涛",
        id_number="61010319890707023X",
        bank_phone="13800138011",
        opening_balance_fen=1_000_000,
        behaviour=Behaviour.DROP_AFTER_COMMIT,
        note="CIB debit, moves the money and then drops the connection",
    ),
)
