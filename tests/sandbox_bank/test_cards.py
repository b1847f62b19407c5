"""The test cards pass the wallet's own card checks, and the bank lists them with balances."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ewallet.identity.realname.rules import check_character
from ewallet.kit.bank_cards import CardType, lookup_card, luhn_valid
from ewallet.kit.phone import parse_phone
from ewallet.sandbox.bank import AMOUNT_BEHAVIOURS, TEST_CARDS, Behaviour, SandboxCard
from ewallet.sandbox.bank.cards import behaviour_for


@pytest.mark.parametrize("card", TEST_CARDS, ids=lambda card: card.note.split(",")[0])
def test_each_card_is_valid_for_the_wallet(card: SandboxCard) -> None:
    number, entry = lookup_card(card.number)
    assert number == card.number
    assert luhn_valid(card.number)
    assert entry.bank.code == card.bank_code
    assert card.id_number[17] == check_character(card.id_number[:17])
    assert parse_phone(card.bank_phone) == "+86" + card.bank_phone


def test_the_cards_cover_the_banks_and_every_behaviour() -> None:
    approving_debit = {
        card.bank_code
        for card in TEST_CARDS
        if card.behaviour is Behaviour.APPROVE and card.card_type == CardType.DEBIT
    }
    assert approving_debit >= {"ICBC", "CCB", "ABC", "BOC"}
    assert any(card.card_type == CardType.CREDIT for card in TEST_CARDS)
    assert {card.behaviour for card in TEST_CARDS} == set(Behaviour)
    assert len({card.number for card in TEST_CARDS}) == len(TEST_CARDS)
    assert len({card.bank_phone for card in TEST_CARDS}) == len(TEST_CARDS)


def test_the_amount_chooses_the_behaviour_on_approving_cards_only() -> None:
    assert behaviour_for(Behaviour.APPROVE, 10_051) is Behaviour.TIMEOUT
    assert behaviour_for(Behaviour.APPROVE, 52) is Behaviour.ERROR_AFTER_COMMIT
    assert behaviour_for(Behaviour.APPROVE, 10_050) is Behaviour.APPROVE
    assert behaviour_for(Behaviour.DECLINE, 10_051) is Behaviour.DECLINE
    assert set(AMOUNT_BEHAVIOURS.values()) == set(Behaviour) - {Behaviour.APPROVE}


async def test_the_bank_lists_its_cards_without_a_key(raw: httpx.AsyncClient) -> None:
    response = await raw.get("/test-cards")
    assert response.status_code == 200
    listed = response.json()
    assert [item["number"] for item in listed] == [card.number for card in TEST_CARDS]
    first, card = listed[0], TEST_CARDS[0]
    assert first == {
        "number": card.number,
        "bank_code": "ICBC",
        "bank_name": "中国工商银行",
        "card_type": "debit",
        "holder_name": card.holder_name,
        "id_number": card.id_number,
        "bank_phone": card.bank_phone,
        "balance_fen": card.opening_balance_fen,
        "balance": "100000.00",
        "behaviour": "approve",
        "note": card.note,
    }


def test_docs_list_every_card_as_it_is() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text("utf-8")
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()}
    for card in TEST_CARDS:
        row = rows[card.number]
        for value in (card.holder_name, card.id_number, card.bank_phone, card.card_type):
            assert f"| {value} |" in row
        assert row.endswith(f"| {card.behaviour} |")
        assert f"¥{card.opening_balance_fen // 100:,}.{card.opening_balance_fen % 100:02d}" in row
