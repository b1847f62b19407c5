"""Amounts at the HTTP edge: what a request may carry, how it is read, how an answer shows it.

A request's amount field accepts any JSON value (:data:`AmountIn`), so a number or a
malformed string is refused as ``invalid_amount`` by :func:`parse_amount` -- the one
answer API.md gives for every wrong amount -- rather than as a schema ``422``. Answers
carry amounts as decimal strings with their currency (:class:`AmountOut`).
"""

from __future__ import annotations

from pydantic import BaseModel

from ewallet.kit.money import DEFAULT_CURRENCY, InvalidAmountError, Money

AmountIn = str | int | float | None


def parse_amount(value: AmountIn, currency: str = DEFAULT_CURRENCY) -> Money:
    """``value`` as money of ``currency``; anything but a plain decimal string more than
    zero is ``invalid_amount`` (:meth:`Money.parse`)."""
    if not isinstance(value, str):
        raise InvalidAmountError("amount must be a decimal string")
    return Money.parse(value, currency)


class AmountOut(BaseModel):
    amount: str
    currency: str

    @classmethod
    def of(cls, money: Money) -> AmountOut:
        return cls(amount=money.to_decimal_string(), currency=money.currency)
