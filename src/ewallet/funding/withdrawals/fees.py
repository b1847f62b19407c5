"""The withdrawal fee policy: a lifetime free quota per user, then a rate with a minimum.

Every user may withdraw ``withdrawal_free_quota_minor`` in total without a fee. The quota
used so far is the sum of the user's withdrawals that succeeded or are still in flight
(``processing``, ``pending``, and ``under_review`` -- held for a risk officer): a failed or
rejected withdrawal gives its share back. Transfers to other people's cards
(:mod:`.card_transfers`) are charged on the same terms and share the one quota. Of a new
withdrawal, only the part above what is left of the quota is charged::

    charged = max(0, amount - quota_remaining)
    fee     = 0                                          if charged == 0
            = max(min_fee, round_half_even(charged * rate))  otherwise

So a withdrawal that exactly uses up the quota is free, one fen above it costs the
minimum (¥0.10 by default), and ¥1,000 above it costs ¥1.00 at 0.1 %. All three settings
are configurable (``EWALLET_WITHDRAWAL_FREE_QUOTA_MINOR``, ``..._FEE_RATE``,
``..._MIN_FEE_MINOR``). The same function quotes the fee in the preview and charges it,
so the fee shown before confirming is the fee taken (unless another withdrawal used the
quota meanwhile). Pure arithmetic: the quota used so far is read by the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ewallet.config import Settings
from ewallet.kit.money import Money
from ewallet.models.funding import WithdrawalStatus

# Statuses whose amounts count against the free quota.
QUOTA_STATUSES: Final = (
    WithdrawalStatus.PROCESSING,
    WithdrawalStatus.PENDING,
    WithdrawalStatus.SUCCEEDED,
    WithdrawalStatus.UNDER_REVIEW,
)


@dataclass(frozen=True, slots=True)
class FeePolicy:
    free_quota_minor: int
    rate: Decimal
    min_fee_minor: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FeePolicy:
        return cls(
            free_quota_minor=settings.withdrawal_free_quota_minor,
            rate=settings.withdrawal_fee_rate,
            min_fee_minor=settings.withdrawal_min_fee_minor,
        )


@dataclass(frozen=True, slots=True)
class FeeQuote:
    amount: Money
    fee: Money
    free_quota_remaining: Money  # before this withdrawal

    @property
    def total(self) -> Money:
        return self.amount + self.fee


def quota_remaining(policy: FeePolicy, *, quota_used_minor: int) -> int:
    """What is left of the free quota (minor units, never below zero)."""
    return max(0, policy.free_quota_minor - quota_used_minor)


def quote_fee(policy: FeePolicy, *, amount: Money, quota_used_minor: int) -> FeeQuote:
    """The fee for ``amount`` when ``quota_used_minor`` of the free quota is already used."""
    remaining = quota_remaining(policy, quota_used_minor=quota_used_minor)
    charged = max(0, amount.minor - remaining)
    if charged == 0:
        fee = Money.zero(amount.currency)
    else:
        scaled = Money(charged, amount.currency).scale(policy.rate)
        fee = Money(max(policy.min_fee_minor, scaled.minor), amount.currency)
    return FeeQuote(amount=amount, fee=fee, free_quota_remaining=Money(remaining, amount.currency))
