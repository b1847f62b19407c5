"""``POST /v1/payments`` from the balance records its Idempotency-Key in the money unit (#17).

A balance payment writes the key's record with its answer in the unit that moves the money
(docs/http.md, "Claimed in the unit"); a body a card may fund claims the key first, since
the bank is asked before that unit. What must hold either way: the answer sent is the
answer replayed; the same key with another body is ``idempotency_key_reused`` and moves
nothing; a refusal is replayed under its key; a unit that fails leaves no record, so the
key is free and the order unpaid.
"""

from __future__ import annotations

import pytest

from ewallet.payments import service as paying
from tests.fixtures.accounts import PIN, assert_problem
from tests.fixtures.lost_answers import key_records
from tests.fixtures.shop import Shop, payments


async def test_the_answer_sent_is_the_answer_recorded_and_replayed(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000801", "50.00")
    order_id = await shop.order(merchant, "5.00")
    first = await shop.pay(user, order_id, key="p-1")
    assert first.status_code == 201, first.text
    assert first.headers["content-type"] == "application/json"
    replay = await shop.pay(user, order_id, key="p-1")
    assert (replay.status_code, replay.content) == (201, first.content)
    assert replay.headers["Idempotent-Replayed"] == "true"
    # Another order under the key: paid in its unit, rolled back when the record is found.
    other = await shop.order(merchant, "7.00")
    assert_problem(await shop.pay(user, other, key="p-1"), 409, "idempotency_key_reused")
    # A body a card would fund claims the key the classic way and meets the record too.
    card_body = {
        "order_id": other,
        "payment_password": PIN,
        "funding": {"source": "card", "card_id": "card_none"},
    }
    by_card = await shop.client.post(
        "/v1/payments", json=card_body, headers=shop.auth(user, **{"Idempotency-Key": "p-1"})
    )
    assert_problem(by_card, 409, "idempotency_key_reused")
    assert await shop.count(payments) == 1
    assert await shop.wallet(user) == 45_00


async def test_a_refusal_is_recorded_and_replayed_under_its_key(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000802", "1.00")
    order_id = await shop.order(merchant, "5.00")
    short = await shop.pay(user, order_id, key="p-2")
    assert_problem(short, 402, "insufficient_balance")
    await shop.fund(user, "10.00")  # the same request again is the same answer
    again = await shop.pay(user, order_id, key="p-2")
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (402, "true")
    assert await shop.count(payments) == 0
    assert await shop.wallet(user) == 11_00


async def test_a_unit_that_fails_leaves_no_record_and_the_key_free(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000803", "50.00")
    order_id = await shop.order(merchant, "3.00")
    kept = await key_records(shop.engine)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the process died here")

    with monkeypatch.context() as patched:
        patched.setattr(paying, "settle_order", broken)
        crashed = await shop.pay(user, order_id, key="p-3")
        assert_problem(crashed, 500, "internal_error")
    assert await key_records(shop.engine) == kept
    assert await shop.count(payments) == 0
    retried = await shop.pay(user, order_id, key="p-3")
    assert retried.status_code == 201, retried.text
    assert await shop.wallet(user) == 47_00
