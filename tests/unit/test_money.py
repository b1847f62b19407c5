"""``Money``: exact minor units, the amount strings API.md accepts and refuses, arithmetic."""

from __future__ import annotations

import operator
import string
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewallet.kit.errors import DomainError
from ewallet.kit.money import (
    CURRENCY_EXPONENTS,
    DEFAULT_CURRENCY,
    MAX_INTEGER_DIGITS,
    CurrencyMismatchError,
    InvalidAmountError,
    Money,
    currency_exponent,
)

CURRENCIES = sorted(CURRENCY_EXPONENTS)
currencies = st.sampled_from(CURRENCIES)


@st.composite
def valid_money(draw: st.DrawFn) -> Money:
    """A positive amount of any known currency with at most 15 integer digits."""
    currency = draw(currencies)
    exponent = CURRENCY_EXPONENTS[currency]
    return Money(draw(st.integers(1, 10 ** (MAX_INTEGER_DIGITS + exponent) - 1)), currency)


@st.composite
def valid_text(draw: st.DrawFn) -> tuple[str, str]:
    """``(text, currency)``: a valid amount as a client may type it (leading zeros and all)."""
    currency = draw(currencies)
    exponent = CURRENCY_EXPONENTS[currency]
    integer = draw(st.integers(0, 10**MAX_INTEGER_DIGITS - 1))
    zeros = "0" * draw(st.integers(0, 3))
    decimals = draw(st.integers(0, exponent))
    fraction = draw(st.text(alphabet=string.digits, min_size=decimals, max_size=decimals))
    text = f"{zeros}{integer}" + (f".{fraction}" if fraction else "")
    if Decimal(text) == 0:  # zero is refused: make it the smallest unit instead
        text = "1"
    return text, currency


def money_values(currency: str) -> st.SearchStrategy[Money]:
    return st.integers(-(10**18), 10**18).map(lambda minor: Money(minor, currency))


# ------------------------------------------------------------------------ round trip


@given(valid_money())
def test_parse_inverts_to_decimal_string(money: Money) -> None:
    text = money.to_decimal_string()
    assert Money.parse(text, money.currency) == money
    # Exactly the currency's decimals, ASCII digits only.
    exponent = CURRENCY_EXPONENTS[money.currency]
    integer, _, fraction = text.partition(".")
    assert len(fraction) == exponent
    assert (integer + fraction).isascii()
    assert (integer + fraction).isdigit()


@given(valid_text())
def test_parse_agrees_with_decimal(case: tuple[str, str]) -> None:
    text, currency = case
    money = Money.parse(text, currency)
    assert money.currency == currency
    assert money.minor == Decimal(text).scaleb(CURRENCY_EXPONENTS[currency])
    assert money.to_decimal() == Decimal(text)


def test_largest_and_smallest_amounts_per_currency() -> None:
    for currency, exponent in CURRENCY_EXPONENTS.items():
        largest = "9" * MAX_INTEGER_DIGITS + ("." + "9" * exponent if exponent else "")
        assert Money.parse(largest, currency).minor == 10 ** (MAX_INTEGER_DIGITS + exponent) - 1
        smallest = "0." + "0" * (exponent - 1) + "1" if exponent else "1"
        assert Money.parse(smallest, currency).minor == 1


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.30", "CNY", 1230),
        ("12.3", "CNY", 1230),
        ("12", "CNY", 1200),
        ("0.01", "CNY", 1),
        ("007.50", "CNY", 750),
        ("0001", "JPY", 1),
        ("1500", "JPY", 1500),
        ("1.234", "BHD", 1234),
        ("0.001", "BHD", 1),
        ("1" + "0" * 14, "KRW", 10**14),
        ("0" * 5 + "9" * 15, "CNY", (10**15 - 1) * 100),
    ],
)
def test_parse_examples(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


def test_parse_defaults_to_cny() -> None:
    assert DEFAULT_CURRENCY == "CNY"
    assert Money.parse("1.00") == Money(100, "CNY")


# ---------------------------------------------------------------------------- refusals

REFUSED = [
    pytest.param("0", "CNY", id="zero"),
    pytest.param("0.00", "CNY", id="zero-with-decimals"),
    pytest.param("000", "JPY", id="zeros"),
    pytest.param("-1", "CNY", id="negative"),
    pytest.param("-0.01", "CNY", id="negative-fraction"),
    pytest.param("1.234", "CNY", id="three-decimals-cny"),
    pytest.param("1.000", "CNY", id="three-zero-decimals-cny"),
    pytest.param("1.5", "JPY", id="decimals-jpy"),
    pytest.param("1.0", "KRW", id="zero-decimal-krw"),
    pytest.param("1.2345", "BHD", id="four-decimals-bhd"),
    pytest.param("1e3", "CNY", id="exponent"),
    pytest.param("1E3", "CNY", id="exponent-upper"),
    pytest.param("1.5e2", "CNY", id="exponent-fraction"),
    pytest.param("１２", "CNY", id="full-width-digits"),
    pytest.param("١٢", "CNY", id="arabic-indic-digits"),
    pytest.param("१२.५०", "CNY", id="devanagari-digits"),
    pytest.param("1" + "0" * 15, "CNY", id="sixteen-integer-digits"),
    pytest.param("1" + "0" * 15 + ".00", "CNY", id="sixteen-integer-digits-with-decimals"),
    pytest.param("+1", "CNY", id="plus"),
    pytest.param(" 1", "CNY", id="leading-space"),
    pytest.param("1 ", "CNY", id="trailing-space"),
    pytest.param("1\n", "CNY", id="trailing-newline"),
    pytest.param("1 000", "CNY", id="inner-space"),
    pytest.param("\u00a01", "CNY", id="no-break-space"),
    pytest.param("", "CNY", id="empty"),
    pytest.param("1.", "CNY", id="dot-without-fraction"),
    pytest.param(".5", "CNY", id="fraction-without-integer"),
    pytest.param(".", "CNY", id="dot"),
    pytest.param("1.2.3", "CNY", id="two-dots"),
    pytest.param("1,000", "CNY", id="thousands-comma"),
    pytest.param("1,5", "CNY", id="decimal-comma"),
    pytest.param("1_000", "CNY", id="underscore"),
    pytest.param("0x10", "CNY", id="hex"),
    pytest.param("NaN", "CNY", id="nan"),
    pytest.param("Infinity", "CNY", id="infinity"),
    pytest.param("inf", "CNY", id="inf"),
    pytest.param("¥1", "CNY", id="currency-sign"),
    pytest.param("1 CNY", "CNY", id="currency-code"),
]


@pytest.mark.parametrize(("text", "currency"), REFUSED)
def test_parse_refuses(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmountError) as caught:
        Money.parse(text, currency)
    assert caught.value.code == "invalid_amount"
    assert caught.value.status == 422
    assert isinstance(caught.value, DomainError)


@pytest.mark.parametrize("value", [12, 12.3, Decimal("12.30"), b"12.30", None, ["1"]])
def test_parse_refuses_non_strings(value: Any) -> None:
    with pytest.raises(InvalidAmountError, match="decimal string"):
        Money.parse(value)


@pytest.mark.parametrize("currency", ["XYZ", "cny", "", "RMB"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(InvalidAmountError, match="unsupported currency"):
        Money.parse("1.00", currency)
    with pytest.raises(InvalidAmountError, match="unsupported currency"):
        Money(100, currency)
    with pytest.raises(InvalidAmountError, match="unsupported currency"):
        currency_exponent(currency)


def test_parse_refuses_thousands_of_leading_zeros_as_invalid_amount() -> None:
    # Leading zeros pass the 15-digit check (it strips them), then int() hits Python's
    # int/str conversion limit: a client string would surface as a 500, not a 422.
    with pytest.raises(InvalidAmountError):
        Money.parse("0" * 5000 + "1")


non_ascii_digits = st.characters(categories=["Nd"], exclude_characters=string.digits)


@given(valid_text(), non_ascii_digits, st.data())
def test_any_non_ascii_decimal_digit_is_refused(
    case: tuple[str, str], digit: str, data: st.DataObject
) -> None:
    text, currency = case
    assert digit.isdecimal()
    assert not digit.isascii()
    position = data.draw(st.integers(0, len(text)), label="position")
    replace = data.draw(st.booleans(), label="replace")
    tampered = text[:position] + digit + text[position + (1 if replace else 0) :]
    with pytest.raises(InvalidAmountError):
        Money.parse(tampered, currency)


@given(st.text(alphabet=non_ascii_digits, min_size=1, max_size=8), currencies)
def test_amounts_made_only_of_non_ascii_digits_are_refused(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmountError):
        Money.parse(text, currency)


JUNK = [" ", "\t", "\n", "\u00a0", "\u3000", "+", "-", ",", "_", "e", "E", "'", "x", "/", "%"]


@given(valid_text(), st.sampled_from(JUNK), st.data())
def test_valid_amount_with_any_junk_character_is_refused(
    case: tuple[str, str], junk: str, data: st.DataObject
) -> None:
    text, currency = case
    position = data.draw(st.integers(0, len(text)), label="position")
    with pytest.raises(InvalidAmountError):
        Money.parse(text[:position] + junk + text[position:], currency)


@given(currencies, st.integers(1, 10**6), st.integers(1, 5), st.data())
def test_more_decimals_than_the_currency_allows_are_refused(
    currency: str, integer: int, extra: int, data: st.DataObject
) -> None:
    exponent = CURRENCY_EXPONENTS[currency]
    size = exponent + extra
    digits = data.draw(st.text(alphabet=string.digits, min_size=size, max_size=size))
    with pytest.raises(InvalidAmountError, match=f"{currency} allows {exponent} decimals"):
        Money.parse(f"{integer}.{digits}", currency)


@given(currencies, st.integers(10**MAX_INTEGER_DIGITS, 10**40))
def test_more_than_15_integer_digits_are_refused(currency: str, integer: int) -> None:
    with pytest.raises(InvalidAmountError, match="more than 15 integer digits"):
        Money.parse(str(integer), currency)


@given(currencies, st.integers(1, 20), st.integers(0, 3))
def test_zero_in_any_spelling_is_refused(currency: str, zeros: int, decimals: int) -> None:
    decimals = min(decimals, CURRENCY_EXPONENTS[currency])
    text = "0" * zeros + ("." + "0" * decimals if decimals else "")
    with pytest.raises(InvalidAmountError, match="more than zero"):
        Money.parse(text, currency)


@given(st.text(max_size=24), currencies)
def test_whatever_parse_accepts_is_a_plain_ascii_decimal(text: str, currency: str) -> None:
    try:
        money = Money.parse(text, currency)
    except InvalidAmountError:
        return
    integer, dot, fraction = text.partition(".")
    assert integer.isascii()
    assert integer.isdigit()
    assert not dot or (fraction.isascii() and fraction.isdigit())
    assert money.minor > 0
    assert money.to_decimal() == Decimal(text)


# -------------------------------------------------------------------------- arithmetic


@given(currencies.flatmap(lambda c: st.tuples(money_values(c), money_values(c), money_values(c))))
def test_addition_and_subtraction_laws(values: tuple[Money, Money, Money]) -> None:
    a, b, c = values
    zero = Money.zero(a.currency)
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert a + zero == a
    assert a - a == zero
    assert (a + b) - b == a
    assert a - b == a + (-b)
    negated = -a
    assert -negated == a
    assert negated.minor == -a.minor
    assert (a + b).minor == a.minor + b.minor
    assert (a + b).currency == a.currency


@given(currencies.flatmap(lambda c: st.tuples(money_values(c), money_values(c))))
def test_comparisons_follow_minor_units(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a < b) == (a.minor < b.minor)
    assert (a <= b) == (a.minor <= b.minor)
    assert (a > b) == (a.minor > b.minor)
    assert (a >= b) == (a.minor >= b.minor)
    assert (a == b) == (a.minor == b.minor)
    assert a.is_positive() == (a.minor > 0)


@pytest.mark.parametrize(
    "operation",
    [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_mixed_currencies_raise(operation: Callable[[Money, Money], object]) -> None:
    with pytest.raises(CurrencyMismatchError, match="cannot combine CNY and USD") as caught:
        operation(Money(100, "CNY"), Money(100, "USD"))
    assert caught.value.code == "validation_error"


def test_equality_across_currencies_is_simply_false() -> None:
    # Equality is not arithmetic: amounts of different currencies are unequal, no error.
    assert Money(100, "CNY") != Money(100, "USD")
    assert Money(0, "CNY") != Money.zero("JPY")


def test_money_is_a_frozen_value() -> None:
    money = Money(100)
    assert money == Money(100, "CNY")
    assert hash(money) == hash(Money(100, "CNY"))
    assert len({Money(1), Money(1), Money(1, "USD")}) == 2
    with pytest.raises(AttributeError):
        money.minor = 5  # type: ignore[misc]


@pytest.mark.parametrize("minor", [True, False, 1.0, Decimal(1), "1", None])
def test_minor_units_must_be_an_int(minor: Any) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        Money(minor)


@pytest.mark.parametrize(
    ("minor", "rate", "expected"),
    [
        (5, "0.001", 0),  # fee 0.1% of 0.05 CNY: 0.005 fen rounds to nothing
        (500, "0.001", 0),  # 0.5 -> 0 (to even)
        (1500, "0.001", 2),  # 1.5 -> 2 (to even)
        (2500, "0.001", 2),  # 2.5 -> 2 (to even), not 3
        (2501, "0.001", 3),  # past the half rounds up
        (3499, "0.001", 3),
        (-1500, "0.001", -2),
        (-2500, "0.001", -2),
        (10000, "0.006", 60),  # 0.6% of 100.00 CNY
        (12345, "1", 12345),
        (12345, "0", 0),
        (999_999_999_999_999_99, "0.001", 999_999_999_999_999_99 // 1000 + 1),
    ],
)
def test_scale_rounds_half_to_even(minor: int, rate: str, expected: int) -> None:
    scaled = Money(minor, "CNY").scale(Decimal(rate))
    assert scaled == Money(expected, "CNY")
    assert isinstance(scaled.minor, int)


def test_scale_keeps_the_currency() -> None:
    assert Money(15, "JPY").scale(Decimal("0.1")) == Money(2, "JPY")
    assert Money(25, "JPY").scale(Decimal("0.1")) == Money(2, "JPY")


def test_scale_refuses_a_float_rate() -> None:
    with pytest.raises(TypeError):
        Money(100).scale(0.1)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ format


@pytest.mark.parametrize(
    ("money", "text", "decimal_text"),
    [
        (Money(1230), "12.30 CNY", "12.30"),
        (Money(5), "0.05 CNY", "0.05"),
        (Money(0), "0.00 CNY", "0.00"),
        (Money(-5), "-0.05 CNY", "-0.05"),
        (Money(-1230, "USD"), "-12.30 USD", "-12.30"),
        (Money(1000, "JPY"), "1000 JPY", "1000"),
        (Money(-7, "KRW"), "-7 KRW", "-7"),
        (Money(1234, "BHD"), "1.234 BHD", "1.234"),
        (Money(1, "BHD"), "0.001 BHD", "0.001"),
        (Money(10**17, "EUR"), "1000000000000000.00 EUR", "1000000000000000.00"),
    ],
)
def test_string_forms(money: Money, text: str, decimal_text: str) -> None:
    assert str(money) == text
    assert money.to_decimal_string() == decimal_text
    assert money.to_decimal() == Decimal(decimal_text)


@given(currencies.flatmap(money_values))
def test_to_decimal_is_exact(money: Money) -> None:
    exponent = CURRENCY_EXPONENTS[money.currency]
    assert money.to_decimal() == Decimal(money.minor).scaleb(-exponent)
    assert str(money) == f"{money.to_decimal_string()} {money.currency}"
