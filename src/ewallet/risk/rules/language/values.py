"""The types a rule condition works with, and the Python values that carry them."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias


class ValueType(StrEnum):
    """The declared type of a feature (and of every expression in a condition)."""

    NUMBER = "number"  # int (counts) or Decimal (money in yuan); computed in Decimal
    TEXT = "text"
    BOOL = "bool"


# A feature's value; None when the feature has none (a password that was never reset).
Value: TypeAlias = Decimal | int | str | bool | None
