"""How a split bill (AA) divides its total: pure arithmetic, no I/O.

Equal shares give every payer ``total // n`` fen and the first ``total % n`` payers, in the
order they were named, one fen more: the shares sum to the total exactly, differ by at most
one fen, and the same bill always splits the same way. Custom shares must sum to the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.money import Money

MIN_PAYERS: Final = 2
MAX_PAYERS: Final = 20


def check_payer_count(count: int) -> None:
    if not MIN_PAYERS <= count <= MAX_PAYERS:
        raise ValidationFailedError(
            f"a split bill has {MIN_PAYERS} to {MAX_PAYERS} payers", field="payers"
        )


def equal_shares(total: Money, count: int) -> list[Money]:
    """``total`` in ``count`` shares (module doc); each at least one fen."""
    check_payer_count(count)
    if total.minor < count:
        raise ValidationFailedError("the total is too small to split", field="amount")
    base, remainder = divmod(total.minor, count)
    return [Money(base + (1 if index < remainder else 0), total.currency) for index in range(count)]


def check_custom_shares(total: Money, shares: Sequence[Money]) -> list[Money]:
    """The shares as given, when they sum to ``total`` exactly."""
    check_payer_count(len(shares))
    if sum(share.minor for share in shares) != total.minor:
        raise ValidationFailedError("the shares do not add up to the total", field="payers")
    return list(shares)
