"""Split bills (AA): the share arithmetic (Hypothesis) and the API on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewallet.kit.errors import ValidationFailedError
from ewallet.kit.money import Money
from ewallet.models.tables import money_request_splits, money_requests
from ewallet.money_requests.shares import MAX_PAYERS, MIN_PAYERS, check_custom_shares, equal_shares
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.transfers import balance
from tests.money_requests.conftest import BOB, CAROL, DAVE, accept, people


@given(
    total=st.integers(min_value=1, max_value=10**12),
    count=st.integers(min_value=MIN_PAYERS, max_value=MAX_PAYERS),
)
def test_equal_shares_sum_to_the_total_exactly(total: int, count: int) -> None:
    if total < count:
        with pytest.raises(ValidationFailedError):
            equal_shares(Money(total), count)
        return
    shares = [share.minor for share in equal_shares(Money(total), count)]
    assert len(shares) == count
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1
    assert min(shares) >= 1
    # The extra fen go to the first payers, so the same bill always splits the same way.
    assert shares == sorted(shares, reverse=True)
    assert [s.minor for s in equal_shares(Money(total), count)] == shares


def test_custom_shares_must_add_up_and_payers_are_two_to_twenty() -> None:
    total = Money(100_00)
    assert check_custom_shares(total, [Money(30_00), Money(70_00)]) == [Money(30_00), Money(70_00)]
    with pytest.raises(ValidationFailedError):
        check_custom_shares(total, [Money(30_00), Money(69_99)])
    with pytest.raises(ValidationFailedError):
        equal_shares(total, 1)
    with pytest.raises(ValidationFailedError):
        equal_shares(total, 21)


async def split(harness: Harness, requester: TestUser, body: dict[str, Any]) -> httpx.Response:
    return await harness.client.post(
        "/v1/split-bills",
        json=body,
        headers=harness.auth(requester, **{"Idempotency-Key": f"split-{uuid.uuid4()}"}),
    )


async def test_a_split_bill_asks_each_payer_and_shows_their_status(harness: Harness) -> None:
    alice, bob = await people(harness)
    carol = await harness.user(phone=CAROL, pin=PIN)
    dave = await harness.user(phone=DAVE, pin=PIN)
    response = await split(
        harness,
        alice,
        {
            "amount": "100.00",
            "note": "晚饭 AA",
            "payers": [{"phone": p} for p in (BOB, CAROL, DAVE)],
        },
    )
    assert response.status_code == 201, response.text
    bill = response.json()["split_bill"]
    assert [share["amount"]["amount"] for share in bill["shares"]] == ["33.34", "33.33", "33.33"]
    assert [share["payer"]["phone_masked"] for share in bill["shares"]] == [
        "139****0002",
        "137****0003",
        "136****0004",
    ]
    assert bill["counts"]["open"] == 3
    for person in (bob, carol, dave):
        assert await harness.kinds(person) == ["money_request_received"]
    bob_share, carol_share = bill["shares"][0]["id"], bill["shares"][1]["id"]
    assert (await accept(harness, bob, bob_share)).status_code == 201
    declined = await harness.client.post(
        f"/v1/money-requests/{carol_share}/decline", headers=harness.auth(carol)
    )
    assert declined.status_code == 200
    seen = await harness.client.get(f"/v1/split-bills/{bill['id']}", headers=harness.auth(alice))
    assert seen.status_code == 200
    after = seen.json()["split_bill"]
    assert [share["status"] for share in after["shares"]] == ["paid", "declined", "open"]
    assert after["counts"] == {"open": 1, "paid": 1, "declined": 1, "cancelled": 0, "expired": 0}
    assert after["collected"] == {"amount": "33.34", "currency": "CNY"}
    assert await balance(harness, alice) == 33_34
    # Only the requester reads the bill.
    other = await harness.client.get(f"/v1/split-bills/{bill['id']}", headers=harness.auth(bob))
    assert_problem(other, 404, "not_found")


async def test_custom_shares_and_refusals_that_write_nothing(harness: Harness) -> None:
    alice, _ = await people(harness)
    await harness.user(phone=CAROL, pin=PIN)
    custom = await split(
        harness,
        alice,
        {
            "amount": "50.00",
            "payers": [{"phone": BOB, "amount": "20.00"}, {"phone": CAROL, "amount": "30.00"}],
        },
    )
    assert custom.status_code == 201, custom.text
    assert [s["amount"]["amount"] for s in custom.json()["split_bill"]["shares"]] == [
        "20.00",
        "30.00",
    ]
    splits, requests = (
        await harness.count(money_request_splits),
        await harness.count(money_requests),
    )
    refusals = [
        (
            {
                "amount": "50.00",
                "payers": [{"phone": BOB, "amount": "20.00"}, {"phone": CAROL, "amount": "29.99"}],
            },
            422,
            "validation_error",
        ),
        (
            {"amount": "50.00", "payers": [{"phone": BOB, "amount": "20.00"}, {"phone": CAROL}]},
            422,
            "validation_error",
        ),
        ({"amount": "50.00", "payers": [{"phone": BOB}]}, 422, "validation_error"),
        (
            {"amount": "50.00", "payers": [{"phone": BOB}, {"phone": "139 0000 0002"}]},
            422,
            "validation_error",
        ),
        (
            {"amount": "50.00", "payers": [{"phone": BOB}, {"phone": "+8613600000009"}]},
            404,
            "not_found",
        ),
        ({"amount": "0.01", "payers": [{"phone": BOB}, {"phone": CAROL}]}, 422, "validation_error"),
    ]
    for body, status, code in refusals:
        assert_problem(await split(harness, alice, body), status, code)
    assert await harness.count(money_request_splits) == splits
    assert await harness.count(money_requests) == requests
