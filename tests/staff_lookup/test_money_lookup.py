"""The money look-up: "I was charged but the shop says it was not paid" in one answer.

Orders, payments and refunds go through the real merchant and wallet API; top-ups,
withdrawals and webhook attempts are rows as their features write them.
"""

from __future__ import annotations

from typing import Any

from tests.fixtures.shop import PIN
from tests.staff_lookup.world import Desk

PHONE = "+8613812345678"
LOOKUP = "/v1/staff/money-lookup"


async def lookup(desk: Desk, headers: dict[str, str], **params: str) -> Any:
    found = await desk.http.get(LOOKUP, params=params, headers=headers)
    assert found.status_code == 200, (params, found.text)
    return found.json()


async def test_charged_but_the_shop_says_unpaid(desk: Desk) -> None:
    shop = desk.shop
    bakery = await shop.merchant("Corner Bakery")
    customer = await shop.customer(PHONE, "100.00")
    order_id = await shop.order(bakery, "12.30", out_trade_no="SHOP-1001")
    paid = await shop.pay(customer, order_id)
    assert paid.status_code == 201, paid.text
    payment_id = paid.json()["payment"]["id"]
    agent_id, agent = await desk.staff("support_agent")
    _, risk = await desk.staff("risk_officer")

    body = await lookup(desk, agent, q=order_id)
    assert body["matched_by"] == "id"
    [record] = body["records"]
    assert (record["kind"], record["id"], record["status"]) == ("order", order_id, "paid")
    assert record["amount"] == {"amount": "12.30", "currency": "CNY"}
    assert record["customer"] == {
        "id": customer.id,
        "phone": "138****5678",
        "phone_masked": True,
        "status": "active",
    }
    assert record["merchant"]["name"] == "Corner Bakery"
    assert record["order"]["out_trade_no"] == "SHOP-1001"
    assert record["payment"]["id"] == payment_id
    assert record["webhooks"] == []
    # No webhook address anywhere: the shop learns of payments by asking for the order.
    assert record["verdict"] == "paid_merchant_polls"

    # The shop's endpoint failed, then acknowledged.
    await desk.webhook_attempt(bakery.merchant.id, order_id, attempt=1, status_code=500)
    failing = (await lookup(desk, agent, q=payment_id))["records"][0]
    assert (failing["kind"], failing["status"]) == ("payment", "succeeded")
    assert failing["order"]["id"] == order_id
    assert failing["verdict"] == "paid_merchant_not_reached"
    await desk.webhook_attempt(bakery.merchant.id, order_id, attempt=2, status_code=200)
    told = (await lookup(desk, agent, out_trade_no="SHOP-1001"))["records"][0]
    assert told["verdict"] == "paid_merchant_notified"
    assert [(w["attempt"], w["succeeded"]) for w in told["webhooks"]] == [(2, True), (1, False)]

    # The same order number of another merchant: both, unless the merchant is named.
    other = await shop.merchant("Noodle Bar")
    other_order = await shop.order(other, "8.00", out_trade_no="SHOP-1001")
    both = await lookup(desk, agent, q="SHOP-1001")
    assert both["matched_by"] == "out_trade_no"
    assert {r["id"] for r in both["records"]} == {order_id, other_order}
    unpaid = next(r for r in both["records"] if r["id"] == other_order)
    assert (unpaid["verdict"], unpaid["customer"]) == ("not_paid", None)
    one = await lookup(desk, agent, out_trade_no="SHOP-1001", merchant_id=other.merchant.id)
    assert [r["id"] for r in one["records"]] == [other_order]

    # A partial refund: the order's story says so; the refund has its own record.
    refunded = await shop.refund(bakery, order_id, "2.30", "R-1")
    assert refunded.status_code == 201, refunded.text
    refund_id = refunded.json()["refund"]["id"]
    story = (await lookup(desk, agent, q=order_id))["records"][0]
    assert story["verdict"] == "partially_refunded"
    assert [r["id"] for r in story["refunds"]] == [refund_id]
    refund = (await lookup(desk, risk, q=refund_id))["records"][0]
    assert (refund["kind"], refund["verdict"]) == ("refund", "refund_completed")
    assert refund["amount"]["amount"] == "2.30"
    assert refund["customer"]["phone"] == PHONE  # risk officers see it in full

    # The id the customer's history shows is the ledger entry's.
    history = await shop.client.get("/v1/me/transactions", headers=shop.auth(customer))
    entry = next(e for e in history.json()["items"] if e["type"] == "payment")
    by_entry = await lookup(desk, agent, q=entry["id"])
    assert by_entry["matched_by"] == "ledger_transaction"
    assert [(r["kind"], r["id"]) for r in by_entry["records"]] == [("payment", payment_id)]

    looked = await desk.events("support.money_looked_up")
    assert (looked[0].actor_id, looked[0].subject_type, looked[0].subject_id) == (
        agent_id,
        "order",
        order_id,
    )
    assert looked[0].details["customers"] == [customer.id]
    assert looked[0].details["records"] == [f"order:{order_id}"]


async def test_transfers_topups_and_withdrawals(desk: Desk) -> None:
    shop = desk.shop
    payer = await shop.customer(PHONE, "100.00")
    payee = await shop.customer("+8613987654321", "0")
    sent = await shop.client.post(
        "/v1/transfers",
        json={
            "to_phone": payee.phone,
            "amount": "20.00",
            "payment_password": PIN,
            "acknowledge_new_payee": True,
        },
        headers=shop.auth(payer, **{"Idempotency-Key": "t-1"}),
    )
    assert sent.status_code == 201, sent.text
    transfer_id = sent.json()["transfer"]["id"]
    card_id = await desk.card(payer, last_four="4321")
    pending_topup = await desk.topup(payer, card_id, status="pending", age_s=3600)
    failed_withdrawal = await desk.withdrawal(payer, card_id, status="failed")
    _, agent = await desk.staff("support_agent")

    transfer = (await lookup(desk, agent, q=transfer_id))["records"][0]
    assert (transfer["kind"], transfer["verdict"]) == ("transfer", "transfer_completed")
    assert transfer["customer"]["phone"] == "138****5678"
    assert transfer["payee"]["phone"] == "139****4321"
    assert transfer["amount"]["amount"] == "20.00"

    topup = (await lookup(desk, agent, q=pending_topup))["records"][0]
    assert (topup["kind"], topup["status"], topup["verdict"]) == (
        "topup",
        "pending",
        "topup_pending_at_bank",
    )
    assert topup["card"] == "工商银行 (4321)"
    assert topup["amount"]["amount"] == "50.00"

    withdrawal = (await lookup(desk, agent, q=failed_withdrawal.upper()))["records"][0]
    assert withdrawal["verdict"] == "withdrawal_failed_returned"
    assert withdrawal["fee"] == {"amount": "1.00", "currency": "CNY"}
    assert withdrawal["failure_reason"] == "bank refused: account closed"


async def test_nothing_found_and_refusals_leave_nothing(desk: Desk) -> None:
    shop = desk.shop
    bakery = await shop.merchant()
    customer = await shop.customer(PHONE, "100.00")
    order_id = await shop.order(bakery, "12.30", out_trade_no="SHOP-1")
    _, agent = await desk.staff("support_agent")
    _, teller = await desk.staff("teller")
    _, operator = await desk.staff("operator")
    before = await desk.audit_count()

    for params in ({"q": "pay_nothing"}, {"q": "SHOP-404"}, {"out_trade_no": "SHOP-404"}):
        missing = await desk.http.get(LOOKUP, params=params, headers=agent)
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found"), params
    wrong_shop = await desk.http.get(
        LOOKUP, params={"out_trade_no": "SHOP-1", "merchant_id": "mch_other"}, headers=agent
    )
    assert wrong_shop.status_code == 404
    for params in ({}, {"q": order_id, "out_trade_no": "SHOP-1"}, {"merchant_id": "mch_1"}):
        bad = await desk.http.get(LOOKUP, params=params, headers=agent)
        assert (bad.status_code, bad.json()["code"]) == (422, "validation_error"), params

    for headers, status in (({}, 401), (shop.auth(customer), 401), (teller, 403), (operator, 403)):
        refused = await desk.http.get(LOOKUP, params={"q": order_id}, headers=headers)
        assert refused.status_code == status
        assert "records" not in refused.json()
    assert await desk.audit_count() == before
