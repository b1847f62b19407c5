"""Refunds: full and partial, idempotent by out_refund_no, never more than was paid."""

from __future__ import annotations

import asyncio

import pytest

from ewallet.ledger.verify import verify_ledger
from ewallet.merchants.views import NewMerchant
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop, TestUser, refunds


async def paid_order(shop: Shop, amount: str = "100.00") -> tuple[NewMerchant, TestUser, str]:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000301", "200.00")
    order_id = await shop.order(merchant, amount)
    assert (await shop.pay(user, order_id)).status_code == 201
    return merchant, user, order_id


async def test_full_refund_returns_the_money_once(shop: Shop) -> None:
    merchant, user, order_id = await paid_order(shop)
    response = await shop.refund(merchant, order_id, "100.00", "R-1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["refund"]["amount"]["amount"] == "100.00"
    assert body["order"]["status"] == "refunded"
    assert body["order"]["refunded"]["amount"] == "100.00"
    assert await shop.wallet(user) == 200_00
    assert await shop.merchant_balance(merchant) == 0
    assert "refund_received" in await shop.kinds(user)
    # The same refund number again (a retry with another Idempotency-Key): the same refund.
    again = await shop.client.post(
        f"/v1/merchant/orders/{order_id}/refunds",
        json={"amount": "100.00", "out_refund_no": "R-1"},
        headers=shop.key(merchant, **{"Idempotency-Key": "another"}),
    )
    assert again.status_code == 200
    assert again.json()["refund"] == body["refund"]
    assert await shop.count(refunds) == 1
    assert await shop.wallet(user) == 200_00
    payment_id = body["order"]["payment_id"]
    payment = await shop.client.get(f"/v1/payments/{payment_id}", headers=shop.auth(user))
    assert payment.json()["payment"]["status"] == "refunded"
    assert (await verify_ledger(shop.engine)).clean


async def test_partial_refunds_up_to_the_payment_and_no_further(shop: Shop) -> None:
    merchant, user, order_id = await paid_order(shop)
    first = await shop.refund(merchant, order_id, "30.00", "P-1")
    assert first.status_code == 201
    assert first.json()["order"]["status"] == "paid"
    before = await shop.state(user, order_id)
    over = await shop.refund(merchant, order_id, "70.01", "P-2")
    body = assert_problem(over, 409, "refund_exceeds_payment")
    assert body["refundable"] == {"amount": "70.00", "currency": "CNY"}
    reused = await shop.refund(merchant, order_id, "10.00", "P-1")
    assert_problem(reused, 409, "out_refund_no_conflict")
    assert await shop.state(user, order_id) == before
    rest = await shop.refund(merchant, order_id, "70.00", "P-3")
    assert rest.status_code == 201
    assert rest.json()["order"]["status"] == "refunded"
    assert await shop.wallet(user) == 200_00


async def test_unpaid_and_other_merchants_orders_are_refused(shop: Shop) -> None:
    merchant, user, order_id = await paid_order(shop)
    unpaid = await shop.order(merchant, "5.00", out_trade_no="U-1")
    assert_problem(await shop.refund(merchant, unpaid, "5.00", "U-1"), 409, "order_not_refundable")
    stranger = await shop.merchant("Stranger")
    before = await shop.state(user, order_id)
    assert_problem(await shop.refund(stranger, order_id, "1.00", "S-1"), 404, "not_found")
    response = await shop.client.post(
        f"/v1/merchant/orders/{order_id}/refunds",
        json={"amount": "1.00", "out_refund_no": "S-2"},
        headers={"Idempotency-Key": "no-auth"},
    )
    assert_problem(response, 401, "unauthorized")
    assert_problem(await shop.refund(merchant, order_id, "0.001", "S-3"), 422, "invalid_amount")
    assert await shop.state(user, order_id) == before


@pytest.mark.slow
async def test_twenty_parallel_refunds_never_exceed_the_payment(shop: Shop) -> None:
    merchant, user, order_id = await paid_order(shop)
    answers = await asyncio.gather(
        *(shop.refund(merchant, order_id, "7.00", f"PAR-{n}") for n in range(20))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * 14 + [409] * 6, [r.text for r in answers]
    assert all(
        r.json()["code"] == "refund_exceeds_payment" for r in answers if r.status_code == 409
    )
    assert await shop.count(refunds) == 14
    assert await shop.wallet(user) == 100_00 + 98_00
    # Fee 38 fen; 98.00 refunded returned floor(38 * 98 %) = 37 of it: the merchant keeps
    # 2.00 less the 1 fen of fee left.
    assert await shop.merchant_balance(merchant) == 2_00 - 1
    assert (await verify_ledger(shop.engine)).clean


async def test_parallel_retries_of_one_refund_number_refund_once(shop: Shop) -> None:
    merchant, user, order_id = await paid_order(shop)
    answers = await asyncio.gather(
        *(
            shop.client.post(
                f"/v1/merchant/orders/{order_id}/refunds",
                json={"amount": "40.00", "out_refund_no": "ONE"},
                headers=shop.key(merchant, **{"Idempotency-Key": f"try-{n}"}),
            )
            for n in range(6)
        )
    )
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201]
    assert await shop.count(refunds) == 1
    assert await shop.wallet(user) == 140_00
