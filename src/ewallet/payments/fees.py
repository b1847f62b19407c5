"""Merchant fee arithmetic: pure integers in fen, no I/O (docs/merchant-api.md "Fees").

A payment's fee is ``rate_bp`` basis points of its amount, rounded half up to the fen,
at least ``minimum`` fen, and never more than the amount itself::

    fee = min(amount, max(minimum, round_half_up(amount * rate_bp / 10000)))

A refund returns a share of that fee (policy ``proportional``) computed on the running
totals, so rounding never adds up across partial refunds::

    share = floor(fee * refunded_after / amount) - returned_before

``refunded_after`` counts this refund too. The fee returned by all refunds of a payment is
therefore ``floor(fee * refunded / amount)``: never more than the fee, and exactly the fee
once the whole amount is refunded (the last refund returns the remainder). What the
merchant keeps of a payment, ``(amount - refunded) - (fee - returned)``, is never negative,
and a refund's merchant leg ``refund - share`` never is either. Policy ``none`` returns
nothing: the merchant pays back the whole refund and the fee stays earned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

BASIS_POINTS: Final = 10_000


class RefundPolicy(StrEnum):
    PROPORTIONAL = "proportional"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class FeeTerms:
    """The rate (basis points) and minimum (fen) one merchant's payments pay."""

    rate_bp: int
    minimum: int

    def __post_init__(self) -> None:
        if self.rate_bp < 0 or self.minimum < 0:
            raise ValueError("fee terms are never negative")

    @classmethod
    def of(
        cls, *, rate_bp: int | None, minimum: int | None, default_rate_bp: int, default_minimum: int
    ) -> FeeTerms:
        """A merchant's own terms where set (not None), the defaults elsewhere."""
        return cls(
            default_rate_bp if rate_bp is None else rate_bp,
            default_minimum if minimum is None else minimum,
        )


def payment_fee(amount: int, terms: FeeTerms) -> int:
    """The fee of a payment of ``amount`` fen (module doc)."""
    if amount <= 0:
        raise ValueError("a payment's amount is positive")
    proportional = (amount * terms.rate_bp + BASIS_POINTS // 2) // BASIS_POINTS
    return min(amount, max(terms.minimum, proportional))


def refund_fee_share(
    *,
    amount: int,
    fee: int,
    refunded_before: int,
    refund: int,
    returned_before: int,
    policy: RefundPolicy,
) -> int:
    """The part of the payment's ``fee`` a refund of ``refund`` fen returns (module doc).

    ``refunded_before`` and ``returned_before`` are the payment's refunded total and fee
    returned before this refund. Never negative, never more than ``refund``, and with the
    earlier shares never more than ``fee``.
    """
    if not 0 < refund <= amount - refunded_before or refunded_before < 0:
        raise ValueError("a refund is positive and within what is left to refund")
    if not 0 <= fee <= amount or not 0 <= returned_before <= fee:
        raise ValueError("the fee is within the amount, the fee returned within the fee")
    if policy is RefundPolicy.NONE:
        return 0
    due = fee * (refunded_before + refund) // amount
    # The bound by ``refund`` only matters after the policy changed from none: the shares
    # then catch up, but a refund never returns more fee than its own amount.
    return min(refund, max(0, due - returned_before))
