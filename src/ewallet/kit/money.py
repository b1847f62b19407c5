"""Money: integer minor units plus an ISO 4217 currency. No float on any money path.

Amount strings from clients follow API.md: a plain decimal in major units ("12.30"),
ASCII digits only, at most the currency's decimals, more than zero, at most 15 integer
digits. Anything else is :class:`InvalidAmountError` (``invalid_amount``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from ewallet.kit.errors import DomainError

# Minor-unit exponents of the currencies the wallet knows (ISO 4217).
CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    "CNY": 2,
    "HKD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "KRW": 0,
    "BHD": 3,
}
DEFAULT_CURRENCY: Final = "CNY"
MAX_INTEGER_DIGITS: Final = 15
# Longer than any valid amount with a few leading zeros: refused before any parsing.
MAX_AMOUNT_LENGTH: Final = 64

_AMOUNT_RE = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?$", re.ASCII)


class InvalidAmountError(DomainError):
    code = "invalid_amount"
    status = 422


class CurrencyMismatchError(DomainError):
    """Two amounts of different currencies were combined."""

    code = "validation_error"
    status = 422


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InvalidAmountError(f"unsupported currency {currency!r}") from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: ``minor`` units of ``currency`` (fen for CNY)."""

    minor: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError("Money.minor must be an int")
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = DEFAULT_CURRENCY) -> Money:
        """Parse a client amount string; refuse every form API.md refuses."""
        exponent = currency_exponent(currency)
        if not isinstance(text, str):
            raise InvalidAmountError("amount must be a decimal string")
        if len(text) > MAX_AMOUNT_LENGTH:
            raise InvalidAmountError("amount string too long")
        match = _AMOUNT_RE.fullmatch(text)
        if match is None:
            raise InvalidAmountError(f"not a plain decimal amount: {text!r}")
        integer, fraction = match.group("int").lstrip("0") or "0", match.group("frac") or ""
        if len(integer) > MAX_INTEGER_DIGITS:
            raise InvalidAmountError("more than 15 integer digits")
        if len(fraction) > exponent:
            raise InvalidAmountError(f"{currency} allows {exponent} decimals")
        minor = int(integer) * 10**exponent + (
            int(fraction.ljust(exponent, "0")) if exponent else 0
        )
        if minor <= 0:
            raise InvalidAmountError("amount must be more than zero")
        return cls(minor, currency)

    def to_decimal_string(self) -> str:
        """The amount in major units, with exactly the currency's decimals ("12.30")."""
        exponent = currency_exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, part = divmod(abs(self.minor), 10**exponent)
        if exponent == 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{part:0{exponent}d}"

    def to_decimal(self) -> Decimal:
        return Decimal(self.to_decimal_string())

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def is_positive(self) -> bool:
        return self.minor > 0

    def scale(self, rate: Decimal) -> Money:
        """Multiply by a rate, rounding half-to-even to whole minor units (fees)."""
        return Money(
            int((Decimal(self.minor) * rate).to_integral_value(ROUND_HALF_EVEN)), self.currency
        )

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"
