"""Paying a merchant's static QR code (``POST /v1/payments/static-qr``): with the PIN,
password-free, and every refusal leaving nothing behind -- no order row either."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.chat.deps import app_chat_bus
from ewallet.merchants.service import update_merchant
from tests.fixtures.accounts import assert_problem
from tests.static_qr.conftest import (
    PIN,
    Shop,
    code_of,
    codes,
    open_accounts,
    open_store,
    orders,
    outbox,
    pay_qr,
    payments,
    spend_records,
    state,
)


async def test_pay_a_store_code_with_the_pin(shop: Shop) -> None:
    merchant = await shop.merchant("Corner Bakery", webhook_url="https://shop.example.cn/hook")
    store = await open_store(shop, merchant, "人民路店", address="人民路 1 号")
    listed = await codes(shop, merchant)
    assert [item["store_id"] for item in listed] == [None, store]
    assert listed[1]["store_name"] == "人民路店"
    assert listed[1]["pay_url"].endswith(f"/pay/qr/{listed[1]['token']}")
    assert await codes(shop, merchant) == listed  # listing again makes nothing new
    user = await shop.customer("+8613900007001")
    webhooks = await shop.count(outbox, outbox.c.topic == "merchant.webhook")

    response = await pay_qr(shop, user, listed[1]["token"], "12.30")

    assert response.status_code == 201, response.text
    payment = response.json()["payment"]
    assert payment["subject"] == "人民路店"
    assert payment["merchant"]["name"] == "Corner Bakery"
    assert payment["amount"] == {"amount": "12.30", "currency": "CNY"}
    assert await shop.wallet(user) == 100_00 - 12_30
    async with shop.engine.connect() as conn:
        order = (await conn.execute(select(orders))).one()
        paid = (await conn.execute(select(payments))).one()
        record = (await conn.execute(select(spend_records))).one()
    # The merchant is credited the amount less its fee (0 where no fee applies).
    assert await shop.merchant_balance(merchant) == 12_30 - paid._mapping.get("fee", 0)
    assert order.status == "paid"
    assert order.subject == "人民路店"
    assert order.merchant_id == merchant.merchant.id
    assert order.out_trade_no.startswith("sqr_")
    assert (record.channel, record.auth) == ("static_qr", "pin")
    # The merchant's webhook is queued as for any paid order.
    assert await shop.count(outbox, outbox.c.topic == "merchant.webhook") == webhooks + 1
    # The merchant sees the order through its own API.
    seen = await shop.client.get(f"/v1/merchant/orders/{order.id}", headers=shop.key(merchant))
    assert seen.status_code == 200
    assert seen.json()["order"]["status"] == "paid"


async def test_a_rerun_of_the_request_answers_the_same_payment(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007002")
    first = await pay_qr(shop, user, token, "5.00", key="qr-once")
    again = await pay_qr(shop, user, token, "5.00", key="qr-once")
    assert first.status_code == again.status_code == 201
    assert again.json()["payment"]["id"] == first.json()["payment"]["id"]
    assert await shop.wallet(user) == 95_00


async def test_password_free_within_the_limits(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007003")
    off = await pay_qr(shop, user, token, "20.00", pin=None, key="off")
    assert assert_problem(off, 401, "step_up_required")["reason"] == "password_free_off"
    turned_on = await shop.client.put(
        "/v1/me/password-free-payments",
        json={"enabled": True, "per_payment_cap": "50.00", "payment_password": PIN},
        headers=shop.auth(user),
    )
    assert turned_on.status_code == 200, turned_on.text

    paid = await pay_qr(shop, user, token, "20.00", pin=None, key="on")

    assert paid.status_code == 201, paid.text
    async with shop.engine.connect() as conn:
        record = (await conn.execute(select(spend_records))).one()
    assert (record.channel, record.auth) == ("static_qr", "none")
    over = await pay_qr(shop, user, token, "60.00", pin=None, key="over")
    assert assert_problem(over, 401, "step_up_required")["reason"] == "over_cap"
    assert await shop.wallet(user) == 80_00


async def test_above_the_static_qr_daily_limit_is_refused_and_leaves_nothing(
    shop: Shop,
) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007004", funds="2000.00")
    assert (await pay_qr(shop, user, token, "400.00")).status_code == 201
    before = await state(shop, user)

    refused = await pay_qr(shop, user, token, "100.01")

    body = assert_problem(refused, 403, "limit_exceeded")
    assert body["limit"] == "daily_static_qr"
    assert body["remaining"] == {"amount": "100.00", "currency": "CNY"}
    assert await state(shop, user) == before
    one_shot = await pay_qr(shop, user, token, "500.01", key="one-shot")
    assert assert_problem(one_shot, 403, "limit_exceeded")["limit"] == "per_transaction"
    assert await state(shop, user) == before
    assert (await pay_qr(shop, user, token, "100.00")).status_code == 201


async def test_short_balance_leaves_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007005", funds="10.00")
    await open_accounts(shop, user, merchant)
    before = await state(shop, user)
    refused = await pay_qr(shop, user, token, "10.01")
    assert_problem(refused, 402, "insufficient_balance")
    assert await state(shop, user) == before


async def test_wrong_pin_spends_an_attempt_and_nothing_else(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007006")
    before = await state(shop, user)
    refused = await pay_qr(shop, user, token, "1.00", pin="000000")
    assert_problem(refused, 403, "payment_password_invalid")
    after = await state(shop, user)
    assert after["user"]["payment_failures"] == before["user"]["payment_failures"] + 1
    for name in ("orders", "payments", "spend_records", "ledger_transactions", "ledger_accounts"):
        assert after[name] == before[name], name


async def test_unknown_token_and_bad_amounts(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007007")
    before = await state(shop, user)
    for unknown in ("x" * 24, "not a token", token[:-1] + ("A" if token[-1] != "A" else "B")):
        assert_problem(await pay_qr(shop, user, unknown, "1.00", key=unknown), 404, "not_found")
    assert_problem(await pay_qr(shop, user, token, None, key="no-amount"), 422, "validation_error")
    assert_problem(await pay_qr(shop, user, token, "0", key="zero"), 422, "invalid_amount")
    assert_problem(await pay_qr(shop, user, token, "1.001", key="fen"), 422, "invalid_amount")
    assert await state(shop, user) == before
    looked = await shop.client.get(f"/v1/static-qr/{'x' * 24}", headers=shop.auth(user))
    assert_problem(looked, 404, "not_found")


async def test_a_disabled_merchant_is_refused(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007008")
    await update_merchant(
        shop.services,
        Actor.system(),
        merchant_id=merchant.merchant.id,
        changes={"status": "disabled"},
    )
    before = await state(shop, user)
    refused = await pay_qr(shop, user, token, "1.00")
    assert_problem(refused, 422, "merchant_not_supported")
    assert await state(shop, user) == before
    assert await shop.count(orders) == 0


async def test_a_regenerated_code_stops_paying(shop: Shop) -> None:
    merchant = await shop.merchant()
    store = await open_store(shop, merchant, "Airport")
    old = await code_of(shop, merchant, store)
    user = await shop.customer("+8613900007009")
    regenerated = await shop.client.post(
        f"/v1/merchant/static-qr/{old}/regenerate",
        json={"fixed_amount": "8.80"},
        headers=shop.key(merchant),
    )
    assert regenerated.status_code == 201, regenerated.text
    new = regenerated.json()["code"]
    assert new["store_id"] == store
    assert new["fixed_amount"] == {"amount": "8.80", "currency": "CNY"}
    assert new["token"] != old
    assert await code_of(shop, merchant, store) == new["token"]

    assert_problem(await pay_qr(shop, user, old, "8.80"), 404, "not_found")
    again = await shop.client.post(
        f"/v1/merchant/static-qr/{old}/regenerate", json={}, headers=shop.key(merchant)
    )
    assert_problem(again, 404, "not_found")
    wrong = await pay_qr(shop, user, new["token"], "9.00", key="wrong")
    assert_problem(wrong, 422, "validation_error")
    target = await shop.client.get(f"/v1/static-qr/{new['token']}", headers=shop.auth(user))
    assert target.json()["payee_name"] == "Airport"
    assert target.json()["fixed_amount"] == {"amount": "8.80", "currency": "CNY"}
    paid = await pay_qr(shop, user, new["token"], None, key="fixed")
    assert paid.status_code == 201, paid.text
    assert paid.json()["payment"]["amount"]["amount"] == "8.80"
    assert await shop.count(orders) == 1


async def test_the_merchant_topic_is_woken_after_the_payment(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007010")
    assert shop.app is not None
    topic = f"merchant.{merchant.merchant.id}"
    subscription = app_chat_bus(shop.app).subscribe([topic])
    try:
        paid = await pay_qr(shop, user, token, "3.00")
        assert paid.status_code == 201
        heard = await subscription.wait(5.0)
        assert heard == {topic}
        refused = await pay_qr(shop, user, token, "3.00", pin="000000", key="wrong")
        assert refused.status_code == 403
        assert await subscription.wait(0.2) == set()  # a refusal wakes nobody
    finally:
        subscription.close()


async def test_parallel_payments_cannot_both_fit_under_the_daily_limit(shop: Shop) -> None:
    merchant = await shop.merchant()
    token = await code_of(shop, merchant)
    user = await shop.customer("+8613900007011", funds="1000.00")
    await open_accounts(shop, user, merchant)
    answers = await asyncio.gather(
        *(pay_qr(shop, user, token, "300.00", key=f"race-{n}") for n in range(2))
    )
    assert sorted(a.status_code for a in answers) == [201, 403]
    refused = next(a for a in answers if a.status_code == 403)
    assert refused.json()["limit"] == "daily_static_qr"
    assert await shop.count(orders) == 1
    assert await shop.wallet(user) == 1000_00 - 300_00
