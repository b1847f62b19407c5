"""Reading the portal's list filters from a query string: dates are China-time days (the
``to`` day included), amounts are yuan as typed; a malformed value is ``422
validation_error`` naming its field."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.money import InvalidAmountError, Money
from ewallet.risk.limits import CHINA_TIME


def day_start(text: str, field: str, *, next_day: bool = False) -> datetime | None:
    """The start of the China-time day ``text`` (``YYYY-MM-DD``), or of the day after."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationFailedError("a date as YYYY-MM-DD", field=field) from None
    if next_day:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=CHINA_TIME)


def yuan(text: str, field: str, currency: str = "CNY") -> Money | None:
    """An amount typed in yuan (``12.5``), None when empty."""
    text = text.strip().replace(",", "").removeprefix("¥")
    if not text:
        return None
    try:
        return Money.parse(text, currency)
    except InvalidAmountError:
        raise ValidationFailedError("an amount in yuan, like 12.50", field=field) from None
