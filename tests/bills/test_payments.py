"""Paying bills end to end: ledger, biller, receipts, notices, refusals, retries, refunds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ewallet.ledger.verify import verify_ledger
from tests.bills.conftest import (
    ACCOUNTS,
    PIN,
    RETRY_SECONDS,
    Billing,
    bill_payments,
    fund,
    spend_records,
)
from tests.fixtures.accounts import assert_problem
from tests.fixtures.limits import set_tier


async def test_a_paid_bill_moves_money_once_and_has_a_receipt(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "500.00")
    response = await billing.pay(user, ACCOUNTS["due"], "120.50")
    assert response.status_code == 201, response.text
    payment = response.json()["bill_payment"]
    assert payment["status"] == "succeeded"
    assert payment["amount"] == {"amount": "120.50", "currency": "CNY"}
    assert payment["account_no_masked"] == "100***0001"
    assert payment["receipt_no"].startswith("BR20260302")

    assert await billing.balance(user) == 379_50
    assert await billing.payable() == 120_50
    recorded = await billing.sandbox.recorded(payment["id"])
    assert recorded is not None
    assert (recorded["amount_fen"], recorded["notifications"]) == (120_50, 1)
    assert await billing.sandbox.count_payments() == 1
    assert await billing.kinds(user) == ["bill_paid"]
    assert (await verify_ledger(billing.engine)).clean

    read = await billing.client.get(
        f"/v1/bill-payments/{payment['id']}", headers=billing.auth(user)
    )
    assert read.json()["bill_payment"] == payment
    receipt = await billing.client.get(
        f"/v1/bill-payments/{payment['id']}/receipt", headers=billing.auth(user)
    )
    assert receipt.status_code == 200, receipt.text
    body = receipt.json()
    assert body["receipt_no"] == payment["receipt_no"]
    assert body["biller"]["name"]["zh-CN"] == "国网北京市电力公司"
    assert body["account_no_masked"] == "100***0001"
    assert body["amount"]["amount"] == "120.50"
    assert body["reference"] == payment["id"]
    assert body["biller_confirmation"] == recorded["confirmation_no"]
    pdf = await billing.client.get(
        f"/v1/bill-payments/{payment['id']}/receipt",
        params={"format": "pdf"},
        headers=billing.auth(user),
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    # What the biller now shows as due is less by what was paid.
    due = await billing.lookup(user, ACCOUNTS["due"])
    assert due.status_code == 200

    # The queued safety-net delivery finds the payment settled and sends nothing.
    billing.clock.advance(timedelta(seconds=RETRY_SECONDS + 1))
    assert await billing.relay().drain() == 1
    assert (await billing.sandbox.recorded(payment["id"]) or {})["notifications"] == 1


async def test_another_users_payment_is_not_found_and_a_token_is_required(billing: Billing) -> None:
    owner = await billing.user(pin=PIN)
    stranger = await billing.user(phone="+8613900000002", pin=PIN)
    await fund(billing, owner, "100.00")
    payment_id = (await billing.pay(owner, ACCOUNTS["due"], "10.00")).json()["bill_payment"]["id"]
    for path in (f"/v1/bill-payments/{payment_id}", f"/v1/bill-payments/{payment_id}/receipt"):
        assert_problem(
            await billing.client.get(path, headers=billing.auth(stranger)), 404, "not_found"
        )
        assert_problem(await billing.client.get(path), 401, "unauthorized")
    no_token = await billing.client.post(
        "/v1/bill-payments",
        json={"biller_id": "sgcc_bj", "account_no": ACCOUNTS["due"], "amount": "1.00"},
        headers={"Idempotency-Key": "anonymous"},
    )
    assert_problem(no_token, 401, "unauthorized")


async def test_refused_payments_change_nothing(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "50.00")
    before = await billing.money_snapshot(user)
    # Refusals before the PIN burn no attempt; the snapshot covers the user's row.
    assert_problem(await billing.pay(user, "123", "10.00"), 422, "bill_account_invalid")
    assert_problem(
        await billing.pay(user, ACCOUNTS["unknown"], "10.00"), 404, "bill_account_not_found"
    )
    assert_problem(
        await billing.pay(user, ACCOUNTS["timeout"], "10.00"), 503, "upstream_unavailable"
    )
    assert_problem(
        await billing.pay(user, "13800000001", "15.00", biller_id="cmcc_topup"),
        422,
        "bill_amount_not_allowed",
    )
    assert_problem(await billing.pay(user, ACCOUNTS["due"], "0.001"), 422, "invalid_amount")
    assert_problem(await billing.pay(user, ACCOUNTS["due"], "60.00"), 402, "insufficient_balance")
    assert await billing.money_snapshot(user) == before

    wrong = assert_problem(
        await billing.pay(user, ACCOUNTS["due"], "10.00", pin="000000"),
        403,
        "payment_password_invalid",
    )
    assert wrong["remaining_attempts"] == 2
    after_wrong = await billing.money_snapshot(user)
    for key in (
        "bill_payments",
        "spend_records",
        "ledger_transactions",
        "balance",
        "biller_payments",
    ):
        assert after_wrong[key] == before[key]


async def test_over_the_limit_changes_nothing(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    await set_tier(billing, user, 1)
    await fund(billing, user, "2000.00")
    before = await billing.money_snapshot(user)
    refused = assert_problem(
        await billing.pay(user, ACCOUNTS["due"], "1000.01"), 403, "limit_exceeded"
    )
    assert refused["limit"]
    assert await billing.money_snapshot(user) == before


async def test_a_lost_answer_stays_pending_and_the_worker_delivers_it_once(
    billing: Billing,
) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "300.00")
    response = await billing.pay(user, ACCOUNTS["lose_first_answer"], "88.00")
    assert response.status_code == 202, response.text
    assert response.json()["code"] == "operation_pending"
    payment = response.json()["bill_payment"]
    assert payment["status"] == "pending"
    assert await billing.balance(user) == 212_00  # charged once, held by the biller payable
    assert await billing.payable() == 88_00
    assert await billing.kinds(user) == []

    relay = billing.relay()
    assert await relay.drain() == 0  # not due before the retry delay
    billing.clock.advance(timedelta(seconds=RETRY_SECONDS + 1))
    assert await relay.drain() == 1
    done = await billing.client.get(
        f"/v1/bill-payments/{payment['id']}", headers=billing.auth(user)
    )
    assert done.json()["bill_payment"]["status"] == "succeeded"
    recorded = await billing.sandbox.recorded(payment["id"])
    assert recorded is not None
    assert (recorded["notifications"], await billing.sandbox.count_payments()) == (2, 1)
    assert await billing.balance(user) == 212_00
    assert await billing.kinds(user) == ["bill_paid"]
    billing.clock.advance(timedelta(hours=2))
    assert await relay.drain() == 0
    assert (await verify_ledger(billing.engine)).clean


async def test_a_rejected_payment_is_refunded_and_released(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "100.00")
    refused = assert_problem(
        await billing.pay(user, ACCOUNTS["reject"], "40.00"), 402, "biller_declined"
    )
    payment_id = refused["bill_payment_id"]
    assert "payment_rejected" in refused["reason"]
    assert await billing.balance(user) == 100_00
    assert await billing.payable() == 0
    assert await billing.sandbox.count_payments() == 0
    assert await billing.kinds(user) == ["bill_payment_failed"]
    async with billing.engine.connect() as conn:
        row = (
            await conn.execute(select(bill_payments).where(bill_payments.c.id == payment_id))
        ).one()
        spend = (
            await conn.execute(
                select(spend_records).where(spend_records.c.reference == f"bill:{payment_id}")
            )
        ).one()
    assert (row.status, row.refund_transaction_id is not None) == ("failed", True)
    assert spend.released_at is not None  # no longer counts toward the day's limits
    assert (await verify_ledger(billing.engine)).clean
    receipt = await billing.client.get(
        f"/v1/bill-payments/{payment_id}/receipt", headers=billing.auth(user)
    )
    assert_problem(receipt, 409, "bill_receipt_not_ready")


async def test_retrying_with_the_same_key_pays_once(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "100.00")
    first = await billing.pay(user, ACCOUNTS["due"], "30.00", key="bill-retry-1")
    again = await billing.pay(user, ACCOUNTS["due"], "30.00", key="bill-retry-1")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert await billing.balance(user) == 70_00
    assert await billing.sandbox.count_payments() == 1
    assert await billing.count(bill_payments) == 1


async def test_mobile_top_up_takes_an_offered_amount(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "100.00")
    response = await billing.pay(user, "138 0000 0001", "50.00", biller_id="cmcc_topup")
    assert response.status_code == 201, response.text
    assert response.json()["bill_payment"]["account_no_masked"] == "138****0001"
    assert await billing.payable("cmcc_topup") == 50_00
