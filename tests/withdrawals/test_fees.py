"""The fee policy on its own: free quota, then the rate (half-even) with a minimum."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ewallet.funding.withdrawals.fees import FeePolicy, quote_fee
from ewallet.kit.money import Money

POLICY = FeePolicy(free_quota_minor=100_00, rate=Decimal("0.001"), min_fee_minor=10)


@pytest.mark.parametrize(
    ("amount", "used", "fee", "remaining"),
    [
        ("100.00", 0, 0, 10000),  # exactly the quota: free
        ("100.01", 0, 10, 10000),  # one fen over: the minimum
        ("40.00", 60_00, 0, 4000),
        ("40.01", 60_00, 10, 4000),
        ("1000.00", 100_00, 100, 0),  # 0.1 % of the part above the quota
        ("1100.00", 0, 100, 10000),
        ("150.00", 200_00, 15, 0),
        ("50.00", 300_00, 10, 0),  # below the minimum
    ],
)
def test_quote(amount: str, used: int, fee: int, remaining: int) -> None:
    quote = quote_fee(POLICY, amount=Money.parse(amount), quota_used_minor=used)
    assert quote.fee == Money(fee)
    assert quote.free_quota_remaining == Money(remaining)
    assert quote.total == Money.parse(amount) + Money(fee)


def test_rate_rounds_half_even() -> None:
    policy = FeePolicy(free_quota_minor=0, rate=Decimal("0.001"), min_fee_minor=0)
    assert quote_fee(policy, amount=Money(2500), quota_used_minor=0).fee == Money(2)
    assert quote_fee(policy, amount=Money(3500), quota_used_minor=0).fee == Money(4)
    assert quote_fee(policy, amount=Money(2501), quota_used_minor=0).fee == Money(3)
