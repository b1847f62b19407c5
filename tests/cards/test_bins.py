"""The BIN table: issuer, type and validity of card numbers, as a user would type them."""

from __future__ import annotations

import pytest

from ewallet.kit.bank_cards import (
    CardInvalidError,
    CardType,
    bin_table,
    lookup_card,
    luhn_valid,
    supported_banks,
)


def with_check_digit(body: str) -> str:
    """``body`` plus the digit that makes it pass Luhn."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def card(prefix: str, length: int, filler: str = "3") -> str:
    return with_check_digit(prefix + filler * (length - len(prefix) - 1))


ICBC_DEBIT = card("620058", 19)


def test_table_is_loaded_from_the_data_set() -> None:
    table = bin_table()
    assert len(table.by_prefix_and_length) == 1709
    assert table.prefix_lengths[0] == 10
    assert table.prefix_lengths[-1] == 3
    codes = {bank.code for bank in supported_banks()}
    assert {"ICBC", "ABC", "BOC", "CCB"} <= codes
    assert next(b for b in supported_banks() if b.code == "ICBC").name == "中国工商银行"


def test_known_card_is_identified() -> None:
    number, entry = lookup_card(ICBC_DEBIT)
    assert number == ICBC_DEBIT
    assert (entry.bank.code, entry.card_type, entry.length) == ("ICBC", CardType.DEBIT, 19)


@pytest.mark.parametrize(
    "typed",
    [
        " ".join([ICBC_DEBIT[:4], ICBC_DEBIT[4:8], ICBC_DEBIT[8:12], ICBC_DEBIT[12:]]),
        "-".join([ICBC_DEBIT[:6], ICBC_DEBIT[6:]]),
        "".join(chr(ord(c) - 48 + 0xFF10) for c in ICBC_DEBIT),  # full-width digits
        f"\t{ICBC_DEBIT} ",
    ],
)
def test_spaces_dashes_and_full_width_digits_are_accepted(typed: str) -> None:
    assert lookup_card(typed)[0] == ICBC_DEBIT


def test_same_prefix_two_banks_told_apart_by_length() -> None:
    # 622303 is NJCB's with 16 digits and ICBC's with 18.
    assert lookup_card(card("622303", 16))[1].bank.code == "NJCB"
    assert lookup_card(card("622303", 18))[1].bank.code == "ICBC"


def test_longest_prefix_wins() -> None:
    _number, entry = lookup_card(card("621056801", 19))
    assert entry.bin == "621056801"
    assert entry.bank.code == "COMM"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("9999" + "0" * 12, "unknown_bin"),
        (card("620058", 16), "wrong_length"),  # ICBC's 620058 cards have 19 digits
        (ICBC_DEBIT[:-1] + str((int(ICBC_DEBIT[-1]) + 1) % 10), "luhn"),
        ("6200 58ab 1234 5678 901", "not_a_number"),
        ("", "not_a_number"),
        ("12345678901", "wrong_length"),
        ("1" * 20, "wrong_length"),
        ("６２００５８" + "x" * 13, "not_a_number"),
        ("٦٢٠٠٥٨" + "3" * 13, "not_a_number"),  # Arabic-Indic digits are not card digits
    ],
)
def test_bad_numbers_are_card_invalid_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(CardInvalidError) as caught:
        lookup_card(typed)
    assert caught.value.code == "card_invalid"
    assert caught.value.extra["reason"] == reason


def test_non_string_is_refused() -> None:
    with pytest.raises(CardInvalidError):
        lookup_card(6200581234567890123)  # type: ignore[arg-type]


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
