"""A risk ``challenge`` on payments: an order paid by a signed-in user and a static QR code
answer ``step_up_required`` like a transfer and pay once after the step-up; a payment-code
charge without the PIN goes the "pending for the payer's confirmation" way (the cashier
cannot prove a step-up for the payer), and the payer's PIN on their phone pays it once."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from ewallet.merchants.views import NewMerchant
from tests.fixtures.accounts import PIN, assert_problem
from tests.fixtures.payment_codes import charge, code_charges, confirm, show_code
from tests.fixtures.shop import Shop, TestUser, ledger_transactions, orders, payments, spend_records

from .helpers import ask_over, decisions, step_up_code

ALICE, MALLORY = "+8613800000011", "+8613800000012"


async def pay(
    shop: Shop, user: TestUser, order_id: str, *, key: str, challenge_id: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"order_id": order_id, "payment_password": PIN}
    if challenge_id is not None:
        body["challenge_id"] = challenge_id
    return await shop.client.post(
        "/v1/payments", json=body, headers=shop.auth(user, **{"Idempotency-Key": key})
    )


async def prove(shop: Shop, user: TestUser, challenge_id: str, code: str) -> httpx.Response:
    return await shop.client.post(
        "/v1/me/step-up",
        json={"challenge_id": challenge_id, "verification_code": code},
        headers=shop.auth(user),
    )


async def paid(shop: Shop, user: TestUser, merchant: NewMerchant) -> dict[str, Any]:
    """What a payment moves: balances, payments, spend records and ledger transactions."""
    async with shop.engine.connect() as conn:
        counts = {
            table.name: await conn.scalar(select(func.count()).select_from(table))
            for table in (payments, spend_records, ledger_transactions, code_charges)
        }
    return {
        **counts,
        "wallet": await shop.wallet(user),
        "merchant": await shop.merchant_balance(merchant),
    }


def challenged(response: httpx.Response) -> str:
    body = assert_problem(response, 401, "step_up_required")
    assert body["methods"] == ["sms"]
    return str(body["challenge_id"])


async def test_a_challenged_order_payment_pays_once_after_the_step_up(shop: Shop) -> None:
    merchant = await shop.merchant()
    alice = await shop.customer(ALICE, "1000.00")
    mallory = await shop.customer(MALLORY, "1000.00")
    await ask_over(shop, "100", "payment")
    order_id = await shop.order(merchant, "150.00")
    before = await paid(shop, alice, merchant)
    challenge = challenged(await pay(shop, alice, order_id, key="p-1"))
    assert await paid(shop, alice, merchant) == before
    assert (await shop.order_row(order_id)).status == "awaiting_payment"
    [refused] = await decisions(shop)
    assert (refused.verdict, refused.event, refused.amount) == ("challenge", "payment", 150_00)

    # Another user's passed challenge does not pay Alice's order.
    other = await shop.order(merchant, "150.00", out_trade_no="M-1")
    theirs = challenged(await pay(shop, mallory, other, key="m-1"))
    proved = await prove(shop, mallory, theirs, await step_up_code(shop, MALLORY))
    assert proved.status_code == 200, proved.text
    challenged(await pay(shop, alice, order_id, key="p-2", challenge_id=theirs))
    assert await paid(shop, alice, merchant) == before

    proved = await prove(shop, alice, challenge, await step_up_code(shop, ALICE))
    assert proved.status_code == 200, proved.text
    # Not for another order of another amount either.
    bigger = await shop.order(merchant, "200.00", out_trade_no="A-2")
    challenged(await pay(shop, alice, bigger, key="p-3", challenge_id=challenge))
    done = await pay(shop, alice, order_id, key="p-4", challenge_id=challenge)
    assert done.status_code == 201, done.text
    assert await shop.wallet(alice) == 850_00
    assert (await shop.order_row(order_id)).status == "paid"
    stepped = [d for d in await decisions(shop) if "step_up" in d.features]
    assert [d.features["step_up"]["challenge_id"] for d in stepped] == [challenge]
    # Used once: the same challenge for the bigger order's retry is challenged afresh.
    again = await shop.order(merchant, "150.00", out_trade_no="A-3")
    assert challenged(await pay(shop, alice, again, key="p-5", challenge_id=challenge)) != (
        challenge
    )
    assert await shop.wallet(alice) == 850_00


async def test_a_wrong_code_pays_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    alice = await shop.customer(ALICE, "1000.00")
    await ask_over(shop, "100", "payment")
    order_id = await shop.order(merchant, "150.00")
    challenge = challenged(await pay(shop, alice, order_id, key="p-1"))
    code = await step_up_code(shop, ALICE)
    wrong = "000000" if code != "000000" else "111111"
    assert_problem(await prove(shop, alice, challenge, wrong), 400, "verification_code_invalid")
    before = await paid(shop, alice, merchant)
    challenged(await pay(shop, alice, order_id, key="p-2", challenge_id=challenge))
    assert await paid(shop, alice, merchant) == before


async def test_a_challenged_static_qr_payment_pays_after_the_step_up(shop: Shop) -> None:
    merchant = await shop.merchant()
    alice = await shop.customer(ALICE, "1000.00")
    listed = await shop.client.get("/v1/merchant/static-qr", headers=shop.key(merchant))
    token = listed.json()["items"][0]["token"]
    await ask_over(shop, "100", "static_qr")

    async def scan(key: str, challenge_id: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"token": token, "amount": "120.00", "payment_password": PIN}
        if challenge_id is not None:
            body["challenge_id"] = challenge_id
        return await shop.client.post(
            "/v1/payments/static-qr",
            json=body,
            headers=shop.auth(alice, **{"Idempotency-Key": key}),
        )

    before = await paid(shop, alice, merchant)
    challenge = challenged(await scan("s-1"))
    assert await paid(shop, alice, merchant) == before
    assert await shop.count(orders) == 0  # the static-QR order is rolled back with the rest
    proved = await prove(shop, alice, challenge, await step_up_code(shop, ALICE))
    assert proved.status_code == 200, proved.text
    done = await scan("s-2", challenge)
    assert done.status_code == 201, done.text
    assert await shop.wallet(alice) == 880_00


async def test_a_challenged_payment_code_charge_waits_for_the_payers_pin(shop: Shop) -> None:
    merchant = await shop.merchant()
    alice = await shop.customer(ALICE, "1000.00")
    await ask_over(shop, "50", "payment_code")
    code = await show_code(shop, alice)
    before = await shop.wallet(alice)
    # Within the no-PIN limits, but challenged: pending, as over the no-PIN limit.
    response = await charge(shop, merchant, code, "60.00", out_trade_no="risky-1")
    body = assert_problem(response, 401, "step_up_required")
    assert body["methods"] == ["payment_password"]
    pending, order_id = body["challenge_id"], body["order_id"]
    assert await shop.wallet(alice) == before
    assert "payment_code_confirmation" in await shop.kinds(alice)
    [refused] = await decisions(shop)
    assert (refused.verdict, refused.event) == ("challenge", "payment_code")
    # The payer's PIN on their phone is the step-up: it pays once.
    done = await confirm(shop, alice, pending)
    assert done.status_code == 201, done.text
    assert done.json()["payment"]["order_id"] == order_id
    assert await shop.wallet(alice) == before - 60_00
    confirmed = [d for d in await decisions(shop) if "step_up" in d.features]
    assert [(d.verdict, d.features["step_up"]) for d in confirmed] == [
        ("challenge", {"passed": True, "by": f"payment_code_confirmation:{pending}"})
    ]
    twice = await confirm(shop, alice, pending, key="again")
    assert_problem(twice, 409, "order_not_payable")
    assert await shop.wallet(alice) == before - 60_00
    # Below the rule: paid at once without the PIN.
    small = await charge(shop, merchant, await show_code(shop, alice), "49.99", out_trade_no="s")
    assert small.status_code == 201, small.text
