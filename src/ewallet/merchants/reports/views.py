"""A merchant's figures for one Asia/Shanghai day, per currency, in minor units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class CurrencyFigures:
    currency: str
    sales_count: int
    sales_total: int
    refunds_count: int
    refunds_total: int

    @property
    def net(self) -> int:
        return self.sales_total - self.refunds_total


@dataclass(frozen=True, slots=True)
class DayFigures:
    """Sales are payments made that day; refunds are refunds made that day (of any day's
    payment), so ``net`` is what the day moved. CNY is always listed, even at zero."""

    day: date
    figures: tuple[CurrencyFigures, ...]
