"""Paying orders from the wallet: every refusal in its order, leaving nothing behind;
retries with the same Idempotency-Key; races between payers and between payments."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from ewallet.audit.service import Actor
from ewallet.ledger.verify import verify_ledger
from ewallet.merchants.service import update_merchant
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop, TestUser, payments, users


async def refused(
    shop: Shop, user: TestUser, order_id: str, status: int, code: str, **pay: Any
) -> None:
    """Pay, expect the refusal, and check that nothing at all changed."""
    before = await shop.state(user, order_id)
    assert_problem(await shop.pay(user, order_id, **pay), status, code)
    assert await shop.state(user, order_id) == before


async def test_paying_moves_the_money_once_and_tells_the_payer(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000201", "100.00")
    order_id = await shop.order(merchant, "12.30")
    response = await shop.pay(user, order_id)
    assert response.status_code == 201, response.text
    payment = response.json()["payment"]
    assert payment["order_id"] == order_id
    assert payment["amount"] == {"amount": "12.30", "currency": "CNY"}
    assert payment["merchant"]["name"] == "Corner Bakery"
    assert payment["status"] == "succeeded"
    assert await shop.wallet(user) == 100_00 - 12_30
    # 0.38 % of 12.30 is 4.674 fen, rounded half up: 5 fen to fee revenue.
    assert await shop.merchant_balance(merchant) == 12_30 - 5
    assert await shop.posted("fee_revenue:CNY") == 5
    order = await shop.order_row(order_id)
    assert (order.status, order.payment_id) == ("paid", payment["id"])
    assert "payment_succeeded" in await shop.kinds(user)
    assert (await verify_ledger(shop.engine)).clean
    read = await shop.client.get(f"/v1/payments/{payment['id']}", headers=shop.auth(user))
    assert read.status_code == 200
    assert read.json()["payment"] == payment
    merchant_view = await shop.client.get(
        f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant)
    )
    assert merchant_view.json()["order"]["status"] == "paid"


async def test_paying_by_qr_payload(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000202", "50.00")
    created = (await shop.create_order(merchant, "7.00")).json()
    response = await shop.pay(user, "", qr_payload=created["qr_payload"])
    assert response.status_code == 201, response.text
    assert response.json()["payment"]["order_id"] == created["order"]["id"]
    nonsense = await shop.pay(user, "", qr_payload="https://elsewhere.example/pay?x=1", key="q2")
    assert_problem(nonsense, 422, "validation_error")


async def test_payments_are_private_to_their_payer(shop: Shop) -> None:
    merchant = await shop.merchant()
    alice = await shop.customer("+8613900000203", "50.00")
    bob = await shop.customer("+8613900000204", "50.00")
    order_id = await shop.order(merchant, "5.00")
    payment_id = (await shop.pay(alice, order_id)).json()["payment"]["id"]
    path = f"/v1/payments/{payment_id}"
    assert_problem(await shop.client.get(path, headers=shop.auth(bob)), 404, "not_found")
    assert_problem(await shop.client.get(path), 401, "unauthorized")
    assert_problem(await shop.client.get(path, headers=shop.key(merchant)), 401, "unauthorized")


async def test_merchant_not_supported(shop: Shop) -> None:
    no_wallet = await shop.merchant("Cash Only", accepts_wallet=False)
    user = await shop.customer("+8613900000205", "50.00")
    order_id = await shop.order(no_wallet, "5.00")
    await refused(shop, user, order_id, 422, "merchant_not_supported")
    # A merchant disabled after the order was made.
    shop_ = await shop.merchant("Closing Down")
    later = await shop.order(shop_, "5.00")
    await update_merchant(
        shop.services,
        Actor.system(),
        merchant_id=shop_.merchant.id,
        changes={"status": "disabled"},
    )
    await refused(shop, user, later, 422, "merchant_not_supported")


async def test_order_not_payable_when_paid_closed_or_expired(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000206", "50.00")
    paid = await shop.order(merchant, "5.00", out_trade_no="paid")
    assert (await shop.pay(user, paid)).status_code == 201
    await refused(shop, user, paid, 409, "order_not_payable", key="second")
    closed = await shop.order(merchant, "5.00", out_trade_no="closed")
    await shop.client.post(f"/v1/merchant/orders/{closed}/close", headers=shop.key(merchant))
    await refused(shop, user, closed, 409, "order_not_payable")
    expiring = await shop.order(merchant, "5.00", out_trade_no="late", expires_in=60)
    shop.clock.advance(timedelta(seconds=60))
    await refused(shop, user, expiring, 409, "order_not_payable")
    assert_problem(await shop.pay(user, "ord_nonexistent"), 404, "not_found")


async def test_frozen_account_and_pin_refusals(shop: Shop) -> None:
    merchant = await shop.merchant()
    order_id = await shop.order(merchant, "5.00")
    frozen = await shop.customer("+8613900000207", "50.00")
    async with shop.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == frozen.id).values(status="frozen", frozen_by="self")
        )
    await refused(shop, frozen, order_id, 423, "account_frozen")
    no_pin = await shop.user(phone="+8613900000208")
    await shop.fund(no_pin, "50.00")
    await refused(shop, no_pin, order_id, 409, "payment_password_not_set")

    user = await shop.customer("+8613900000209", "50.00")
    before = await shop.state(user, order_id)
    for attempt in range(3):
        wrong = await shop.pay(user, order_id, pin="000000", key=f"wrong-{attempt}")
        expected = (
            ("payment_password_invalid", 403) if attempt < 2 else ("payment_password_locked", 423)
        )
        assert_problem(wrong, expected[1], expected[0])
    locked = await shop.pay(user, order_id, key="right-but-locked")
    body = assert_problem(locked, 423, "payment_password_locked")
    assert body["retry_after"] > 0
    after = await shop.state(user, order_id)
    # The PIN's own bookkeeping moved (failures, lock, audit, notice); no money did.
    for part in ("order", "payments", "refunds", "spend_records", "ledger_transactions"):
        assert after[part] == before[part], part
    assert after["ledger_accounts"] == before["ledger_accounts"]


async def test_limit_exceeded_then_insufficient_balance(shop: Shop) -> None:
    merchant = await shop.merchant()
    # Account class I may pay ¥1,000 in its lifetime, whatever the balance.
    class_one = await shop.customer("+8613900000210", "2000.00", tier=1)
    order_id = await shop.order(merchant, "1000.01")
    before = await shop.state(class_one, order_id)
    body = assert_problem(await shop.pay(class_one, order_id), 403, "limit_exceeded")
    assert body["limit"] == "class_lifetime"
    assert await shop.state(class_one, order_id) == before

    poor = await shop.customer("+8613900000211", "10.00")
    dear = await shop.order(merchant, "10.01", out_trade_no="dear")
    await refused(shop, poor, dear, 402, "insufficient_balance")
    exact = await shop.order(merchant, "10.00", out_trade_no="exact")
    assert (await shop.pay(poor, exact)).status_code == 201
    assert await shop.wallet(poor) == 0


async def test_refusals_come_in_the_documented_order(shop: Shop) -> None:
    no_wallet = await shop.merchant("Cash Only", accepts_wallet=False)
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000212", "1.00", tier=1)
    closed = await shop.order(no_wallet, "5000.00", out_trade_no="c1")
    await shop.client.post(f"/v1/merchant/orders/{closed}/close", headers=shop.key(no_wallet))
    # merchant before order, order before PIN, PIN before limits, limits before balance.
    assert_problem(await shop.pay(user, closed, pin="000000"), 422, "merchant_not_supported")
    closed_here = await shop.order(merchant, "5000.00", out_trade_no="c2")
    await shop.client.post(f"/v1/merchant/orders/{closed_here}/close", headers=shop.key(merchant))
    assert_problem(await shop.pay(user, closed_here, pin="000000"), 409, "order_not_payable")
    big = await shop.order(merchant, "5000.00", out_trade_no="c3")
    assert_problem(
        await shop.pay(user, big, pin="000000", key="k3"), 403, "payment_password_invalid"
    )
    assert_problem(await shop.pay(user, big, key="k4"), 403, "limit_exceeded")
    small = await shop.order(merchant, "2.00", out_trade_no="c4")
    assert_problem(await shop.pay(user, small, key="k5"), 402, "insufficient_balance")


async def test_missing_key_and_malformed_bodies_change_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000213", "50.00")
    order_id = await shop.order(merchant, "5.00")
    before = await shop.state(user, order_id)
    no_key = await shop.client.post(
        "/v1/payments",
        json={"order_id": order_id, "payment_password": "385916"},
        headers=shop.auth(user),
    )
    assert_problem(no_key, 400, "idempotency_key_required")
    for body in (
        {"payment_password": "385916"},
        {"order_id": order_id, "qr_payload": "x", "payment_password": "385916"},
    ):
        response = await shop.client.post(
            "/v1/payments", json=body, headers=shop.auth(user, **{"Idempotency-Key": str(body)})
        )
        assert_problem(response, 422, "validation_error")
    assert await shop.state(user, order_id) == before


async def test_a_retry_after_a_dropped_connection_is_charged_once(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000214", "100.00")
    order_id = await shop.order(merchant, "30.00")
    first = await shop.pay(user, order_id, key="net-1")
    # The answer was lost on the way back; the app sends the very same request again.
    again = await shop.pay(user, order_id, key="net-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await shop.wallet(user) == 70_00
    assert await shop.count(payments) == 1


async def test_the_same_request_sent_twice_at_once_is_charged_once(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000215", "100.00")
    order_id = await shop.order(merchant, "30.00")
    answers = await asyncio.gather(*(shop.pay(user, order_id, key="net-2") for _ in range(2)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses in ([201, 201], [201, 409]), [r.text for r in answers]
    ok = [r.json() for r in answers if r.status_code == 201]
    assert all(body == ok[0] for body in ok)
    assert await shop.wallet(user) == 70_00
    assert await shop.count(payments) == 1


async def test_two_payers_racing_for_one_order_pay_it_once(shop: Shop) -> None:
    merchant = await shop.merchant()
    alice = await shop.customer("+8613900000216", "100.00")
    bob = await shop.customer("+8613900000217", "100.00")
    order_id = await shop.order(merchant, "60.00")
    answers = await asyncio.gather(shop.pay(alice, order_id), shop.pay(bob, order_id))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201, 409], [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 409)
    assert loser.json()["code"] == "order_not_payable"
    assert sorted([await shop.wallet(alice), await shop.wallet(bob)]) == [40_00, 100_00]
    assert await shop.merchant_balance(merchant) == 60_00 - 23  # the fee: 22.8 fen
    assert await shop.count(payments) == 1
    assert (await verify_ledger(shop.engine)).clean


@pytest.mark.slow
async def test_fifty_parallel_payments_from_one_wallet(shop: Shop) -> None:
    # Fifty correct PINs at once, with the default attempt budget: checks beyond the
    # budget's slots wait for one, none is refused.
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000218", "255.00")
    order_ids = [await shop.order(merchant, "10.00", out_trade_no=f"R-{n}") for n in range(50)]
    answers = await asyncio.gather(*(shop.pay(user, order_id) for order_id in order_ids))
    codes = sorted(r.json().get("code", "ok") if r.status_code != 201 else "ok" for r in answers)
    assert codes == ["insufficient_balance"] * 25 + ["ok"] * 25, codes
    assert await shop.wallet(user) == 5_00
    assert await shop.merchant_balance(merchant) == 250_00 - 25 * 4  # 3.8 fen each
    assert await shop.count(payments) == 25
    assert (await verify_ledger(shop.engine)).clean
