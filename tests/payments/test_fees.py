"""Merchant fee arithmetic (payments/fees.py) by property: any amount, rate, minimum and any
sequence of partial refunds. Pure integers: no database, no app."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ewallet.payments.fees import FeeTerms, RefundPolicy, payment_fee, refund_fee_share

amounts = st.integers(min_value=1, max_value=10**12)
small_amounts = st.integers(min_value=1, max_value=100_000_00)
rates = st.integers(min_value=0, max_value=1_000)
minimums = st.integers(min_value=0, max_value=100_00)
terms = st.builds(FeeTerms, rate_bp=rates, minimum=minimums)
policies = st.sampled_from(list(RefundPolicy))


def expected_fee(amount: int, fee_terms: FeeTerms) -> int:
    exact = Decimal(amount) * fee_terms.rate_bp / 10_000
    rounded = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min(amount, max(fee_terms.minimum, rounded))


@given(amount=amounts, fee_terms=terms)
def test_the_fee_is_the_rounded_rate_at_least_the_minimum_at_most_the_amount(
    amount: int, fee_terms: FeeTerms
) -> None:
    fee = payment_fee(amount, fee_terms)
    assert fee == expected_fee(amount, fee_terms)
    assert 0 <= fee <= amount
    assert fee >= min(fee_terms.minimum, amount)


def test_the_default_rate_on_examples() -> None:
    default = FeeTerms(rate_bp=38, minimum=0)
    assert payment_fee(12_30, default) == 5  # 4.674 fen
    assert payment_fee(1_00, default) == 0  # 0.38 fen
    assert payment_fee(1_32, default) == 1  # 0.5016 fen
    assert payment_fee(1_31, default) == 0  # 0.4978 fen
    assert payment_fee(100_00, default) == 38
    assert payment_fee(50, FeeTerms(rate_bp=38, minimum=1_00)) == 50  # capped at the amount


def test_merchant_terms_override_the_defaults_one_by_one() -> None:
    both = FeeTerms.of(rate_bp=None, minimum=None, default_rate_bp=38, default_minimum=1)
    assert both == FeeTerms(38, 1)
    assert FeeTerms.of(rate_bp=0, minimum=None, default_rate_bp=38, default_minimum=1) == (
        FeeTerms(0, 1)
    )
    assert FeeTerms.of(rate_bp=None, minimum=0, default_rate_bp=38, default_minimum=1) == (
        FeeTerms(38, 0)
    )


@st.composite
def refund_runs(draw: st.DrawFn) -> tuple[int, FeeTerms, list[int], list[RefundPolicy]]:
    """A payment, its fee terms, and partial refunds adding up to at most its amount."""
    amount = draw(small_amounts)
    fee_terms = draw(terms)
    refunds: list[int] = []
    left = amount
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        if left == 0:
            break
        part = draw(st.integers(min_value=1, max_value=left))
        refunds.append(part)
        left -= part
    if draw(st.booleans()) and left:
        refunds.append(left)  # often refunded in full: the last refund takes the rest
    policy = draw(policies)
    switching = draw(st.booleans())  # the setting changed between refunds
    each = [draw(policies) if switching else policy for _ in refunds]
    return amount, fee_terms, refunds, each


@settings(max_examples=400)
@given(run=refund_runs())
def test_partial_refunds_never_return_more_than_the_fee_and_the_merchant_never_owes(
    run: tuple[int, FeeTerms, list[int], list[RefundPolicy]],
) -> None:
    amount, fee_terms, refunds, policy_of = run
    fee = payment_fee(amount, fee_terms)
    # The merchant's and fee revenue's balances as the ledger legs move them.
    merchant, revenue = amount - fee, fee
    refunded = returned = 0
    for refund, policy in zip(refunds, policy_of, strict=True):
        share = refund_fee_share(
            amount=amount,
            fee=fee,
            refunded_before=refunded,
            refund=refund,
            returned_before=returned,
            policy=policy,
        )
        assert 0 <= share <= refund
        merchant -= refund - share
        revenue -= share
        refunded += refund
        returned += share
        if all(p is RefundPolicy.PROPORTIONAL for p in policy_of):
            # Under "none" the merchant bears the fee: a refund may take it from the
            # merchant's other takings (the ledger refuses it if there are none).
            assert merchant >= 0
        assert 0 <= returned <= fee
        assert revenue == fee - returned
        # To the fen: what the merchant keeps plus the fee kept is what was paid less refunds.
        assert merchant + revenue == amount - refunded
    if refunded == amount and all(p is RefundPolicy.PROPORTIONAL for p in policy_of):
        assert returned == fee  # the last refund returned the rest
        assert merchant == 0
    if all(p is RefundPolicy.NONE for p in policy_of):
        assert returned == 0


@settings(max_examples=200)
@given(
    payments=st.lists(st.tuples(small_amounts, terms, st.data()), min_size=1, max_size=8),
    policy=policies,
)
def test_any_set_of_payments_and_refunds_adds_up(
    payments: list[tuple[int, FeeTerms, st.DataObject]], policy: RefundPolicy
) -> None:
    merchant = revenue = paid = refunded_total = 0
    for amount, fee_terms, data in payments:
        fee = payment_fee(amount, fee_terms)
        merchant += amount - fee
        revenue += fee
        paid += amount
        refunded = returned = 0
        for refund in data.draw(st.lists(st.integers(min_value=1, max_value=amount), max_size=5)):
            if refund > amount - refunded:
                continue
            share = refund_fee_share(
                amount=amount,
                fee=fee,
                refunded_before=refunded,
                refund=refund,
                returned_before=returned,
                policy=policy,
            )
            merchant -= refund - share
            revenue -= share
            refunded += refund
            returned += share
        refunded_total += refunded
        if policy is RefundPolicy.PROPORTIONAL:
            assert merchant >= 0
        assert revenue >= 0
    assert merchant + revenue == paid - refunded_total


def test_refusals_of_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="positive"):
        payment_fee(0, FeeTerms(38, 0))
    with pytest.raises(ValueError, match="never negative"):
        FeeTerms(-1, 0)
    with pytest.raises(ValueError, match="within what is left"):
        refund_fee_share(
            amount=100,
            fee=1,
            refunded_before=60,
            refund=41,
            returned_before=0,
            policy=RefundPolicy.PROPORTIONAL,
        )
    with pytest.raises(ValueError, match="within the fee"):
        refund_fee_share(
            amount=100,
            fee=1,
            refunded_before=0,
            refund=1,
            returned_before=2,
            policy=RefundPolicy.PROPORTIONAL,
        )
