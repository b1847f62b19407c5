"""Merchant orders: idempotent create by out_trade_no, expiry, reading, closing, IDOR."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ewallet.payments.links import order_id_from_payload
from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import Shop, orders


async def test_create_answers_the_order_its_qr_payload_and_checkout_url(shop: Shop) -> None:
    merchant = await shop.merchant()
    response = await shop.create_order(merchant, "12.30", out_trade_no="A-1")
    assert response.status_code == 201, response.text
    body = response.json()
    order = body["order"]
    assert order["out_trade_no"] == "A-1"
    assert order["amount"] == {"amount": "12.30", "currency": "CNY"}
    assert order["status"] == "awaiting_payment"
    assert order["refunded"]["amount"] == "0.00"
    assert body["checkout_url"].endswith(f"/checkout/{order['id']}")
    assert order_id_from_payload(body["qr_payload"]) == order["id"]
    created = shop.clock.now()
    row = await shop.order_row(order["id"])
    assert row.expires_at == created + timedelta(minutes=15)


async def test_same_number_same_content_is_the_same_order(shop: Shop) -> None:
    merchant = await shop.merchant()
    first = await shop.create_order(merchant, "5.00", out_trade_no="A-2")
    again = await shop.create_order(merchant, "5.00", out_trade_no="A-2")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = await shop.create_order(merchant, "5.01", out_trade_no="A-2")
    assert_problem(other, 409, "out_trade_no_conflict")
    assert await shop.count(orders) == 1


async def test_parallel_creates_of_one_number_make_one_order(shop: Shop) -> None:
    merchant = await shop.merchant()
    answers = await asyncio.gather(
        *(shop.create_order(merchant, "8.00", out_trade_no="A-3") for _ in range(8))
    )
    assert sorted(r.status_code for r in answers) == [200] * 7 + [201]
    assert len({r.json()["order"]["id"] for r in answers}) == 1
    assert await shop.count(orders) == 1


async def test_numbers_are_per_merchant(shop: Shop) -> None:
    one, two = await shop.merchant("One"), await shop.merchant("Two")
    assert (await shop.create_order(one, "1.00", out_trade_no="SAME")).status_code == 201
    assert (await shop.create_order(two, "2.00", out_trade_no="SAME")).status_code == 201


async def test_expiry_bounds_and_refusals_create_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    longest = await shop.create_order(merchant, "1.00", out_trade_no="E-1", expires_in=7200)
    assert longest.status_code == 201, longest.text
    for expires_in in (59, 7201):
        response = await shop.create_order(
            merchant, "1.00", out_trade_no=f"E-{expires_in}", expires_in=expires_in
        )
        assert_problem(response, 422, "validation_error")
    for amount in ("0", "1.001", "-1", 3):
        response = await shop.create_order(merchant, amount, out_trade_no=f"B-{amount}")  # type: ignore[arg-type]
        assert_problem(response, 422, "invalid_amount")
    bad_url = await shop.create_order(merchant, "1.00", out_trade_no="U", notify_url="ftp://x")
    assert_problem(bad_url, 422, "validation_error")
    assert await shop.count(orders) == 1


async def test_an_order_past_its_time_reads_expired(shop: Shop) -> None:
    merchant = await shop.merchant()
    order_id = await shop.order(merchant, "3.00", expires_in=60)
    shop.clock.advance(timedelta(seconds=61))
    response = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant))
    assert response.status_code == 200
    assert response.json()["order"]["status"] == "expired"


async def test_close_is_idempotent_and_refused_once_paid(shop: Shop) -> None:
    merchant = await shop.merchant()
    order_id = await shop.order(merchant, "3.00")
    path = f"/v1/merchant/orders/{order_id}/close"
    first = await shop.client.post(path, headers=shop.key(merchant))
    again = await shop.client.post(path, headers=shop.key(merchant))
    assert first.status_code == again.status_code == 200
    assert again.json()["order"]["status"] == "closed"
    assert again.json()["order"]["closed_at"] == first.json()["order"]["closed_at"]

    user = await shop.customer("+8613900000101", "10.00")
    paid = await shop.order(merchant, "3.00", out_trade_no="P-1")
    assert (await shop.pay(user, paid)).status_code == 201
    before = await shop.order_row(paid)
    refused = await shop.client.post(
        f"/v1/merchant/orders/{paid}/close", headers=shop.key(merchant)
    )
    assert_problem(refused, 409, "order_not_closable")
    assert await shop.order_row(paid) == before


async def test_merchant_auth_and_other_merchants_orders(shop: Shop) -> None:
    mine, theirs = await shop.merchant("Mine"), await shop.merchant("Theirs")
    order_id = await shop.order(theirs, "4.00")
    before = await shop.order_row(order_id)
    for method, path in (
        ("GET", f"/v1/merchant/orders/{order_id}"),
        ("POST", f"/v1/merchant/orders/{order_id}/close"),
    ):
        assert_problem(
            await shop.client.request(method, path, headers=shop.key(mine)), 404, "not_found"
        )
        assert_problem(await shop.client.request(method, path), 401, "unauthorized")
        forged = {"Authorization": "Bearer mk_0123456789abcdef_" + "x" * 43}
        assert_problem(await shop.client.request(method, path, headers=forged), 401, "unauthorized")
    assert await shop.order_row(order_id) == before
    listing = await shop.client.get("/v1/merchant/webhook-deliveries")
    assert_problem(listing, 401, "unauthorized")
