"""The payment code end to end: issue, charge once, replay and forgery refused, the time
window, freezing, and the PIN confirmation of charges above the no-PIN daily limit."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import select

from ewallet.ledger.verify import verify_ledger
from ewallet.payments.webhooks.service import WEBHOOK_TOPIC
from tests.fixtures.accounts import assert_problem, outbox
from tests.fixtures.payment_codes import (
    CHARGES,
    CODE,
    PIN,
    Shop,
    TestUser,
    charge,
    code_secrets,
    confirm,
    everything,
    show_code,
    unfreeze,
)
from tests.fixtures.shop import spend_records


async def refused(
    shop: Shop,
    user: TestUser,
    status: int,
    code: str,
    call: Callable[[], Awaitable[httpx.Response]],
) -> dict[str, Any]:
    """Await ``call``, expect the refusal, and check that nothing at all changed."""
    before = await everything(shop, user)
    body = assert_problem(await call(), status, code)
    assert await everything(shop, user) == before
    return body


async def spends(shop: Shop, user: TestUser) -> list[tuple[str, str, int]]:
    async with shop.engine.connect() as conn:
        rows = await conn.execute(
            select(spend_records.c.channel, spend_records.c.auth, spend_records.c.amount)
            .where(spend_records.c.user_id == user.id)
            .order_by(spend_records.c.created_at, spend_records.c.id)
        )
        return [(row.channel, row.auth, row.amount) for row in rows]


async def test_the_code_is_18_digits_with_a_qr_image_and_a_short_life(shop: Shop) -> None:
    user = await shop.customer("+8613900000501", "10.00")
    response = await shop.client.get(CODE, headers=shop.auth(user))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["code"]) == 18
    assert body["code"].startswith("28")
    assert base64.b64decode(body["qr_png_base64"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert 0 < body["refresh_after"] <= 60
    assert body["expires_at"] == "2026-03-02T01:02:00Z"  # START is a step's first second
    again = await shop.client.get(CODE, headers=shop.auth(user))
    assert again.json()["code"] == body["code"]  # the same code until a charge uses it
    async with shop.engine.connect() as conn:
        secret = (await conn.execute(select(code_secrets))).one()
    assert secret.user_id == user.id
    assert secret.secret_encrypted.startswith("v1:")


async def test_a_code_pays_once_and_a_replay_changes_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000502", "100.00")
    code = await show_code(shop, user)
    response = await charge(shop, merchant, code, "12.00", subject="Coffee")
    assert response.status_code == 201, response.text
    paid = response.json()["charge"]
    assert (paid["status"], paid["auth"]) == ("succeeded", "none")
    assert paid["order"]["status"] == "paid"
    assert paid["order"]["subject"] == "Coffee"
    assert paid["order"]["amount"] == {"amount": "12.00", "currency": "CNY"}
    assert await shop.wallet(user) == 88_00
    assert await shop.merchant_balance(merchant) == 12_00 - 5  # the 0.38 % fee: 4.56 fen, rounded
    assert await spends(shop, user) == [("payment_code", "none", 12_00)]
    assert "payment_succeeded" in await shop.kinds(user)
    # The same code again, even as another order with another key: refused, nothing moves.
    await refused(
        shop,
        user,
        422,
        "payment_code_invalid",
        lambda: charge(shop, merchant, code, "5.00", out_trade_no="again", key="k2"),
    )
    # The next code shown is a new one, and it pays.
    fresh = await show_code(shop, user)
    assert fresh != code
    assert (await charge(shop, merchant, fresh, "3.00")).status_code == 201
    assert await shop.wallet(user) == 85_00
    order = await shop.client.get(
        f"/v1/merchant/orders/{paid['order']['id']}", headers=shop.key(merchant)
    )
    assert order.json()["order"]["status"] == "paid"
    assert (await verify_ledger(shop.engine)).clean


async def test_forged_and_altered_codes_are_refused(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000503", "100.00")
    code = await show_code(shop, user)
    altered = [
        code[:-1] + str((int(code[-1]) + 1) % 10),  # the one-time value
        code[:5] + str((int(code[5]) + 1) % 10) + code[6:],  # the lookup part
        code[:10] + str((int(code[10]) + 1) % 10) + code[11:],  # the counter
        "18" + code[2:],  # another wallet's prefix
        "28" + "0" * 16,
        code[:-1],
        "28abcdefghijklmnop",
    ]
    for index, forged in enumerate(altered):
        await refused(
            shop,
            user,
            422,
            "payment_code_invalid",
            partial(charge, shop, merchant, forged, "1.00", out_trade_no=f"forged-{index}"),
        )
    assert (await charge(shop, merchant, code, "1.00")).status_code == 201


async def test_a_code_lives_for_its_minute_and_the_next(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000504", "100.00")
    code = await show_code(shop, user)
    shop.clock.advance(timedelta(seconds=119))  # the last second of the following step
    assert (await charge(shop, merchant, code, "1.00")).status_code == 201
    old = await show_code(shop, user)
    shop.clock.advance(timedelta(seconds=180))  # three steps later
    await refused(
        shop, user, 422, "payment_code_invalid", lambda: charge(shop, merchant, old, "1.00")
    )


async def test_a_frozen_account_gets_no_code_and_cannot_be_charged(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000505", "100.00")
    code = await show_code(shop, user)
    async with shop.engine.connect() as conn:
        before = (await conn.execute(select(code_secrets))).one()
    frozen = await shop.client.post(
        "/v1/me/freeze", json={"payment_password": PIN}, headers=shop.auth(user)
    )
    assert frozen.status_code == 200, frozen.text
    await refused(
        shop,
        user,
        423,
        "account_frozen",
        lambda: shop.client.get(CODE, headers=shop.auth(user)),
    )
    await refused(shop, user, 423, "account_frozen", lambda: charge(shop, merchant, code))
    await unfreeze(shop, user)
    # A code made before the freeze stays dead after the unfreeze: its secret was retired.
    await refused(
        shop,
        user,
        422,
        "payment_code_invalid",
        lambda: charge(shop, merchant, code, out_trade_no="after-unfreeze"),
    )
    fresh = await show_code(shop, user)
    assert fresh != code
    async with shop.engine.connect() as conn:
        after = (await conn.execute(select(code_secrets))).one()
    assert after.secret_encrypted != before.secret_encrypted
    assert after.freeze_event_id > before.freeze_event_id
    assert (await charge(shop, merchant, fresh)).status_code == 201


async def test_refusals_leave_the_code_usable(shop: Shop) -> None:
    cash_only = await shop.merchant("Cash Only", accepts_wallet=False)
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000506", "10.00")
    code = await show_code(shop, user)
    await refused(
        shop, user, 422, "merchant_not_supported", lambda: charge(shop, cash_only, code, "1.00")
    )
    await refused(
        shop,
        user,
        402,
        "insufficient_balance",
        lambda: charge(shop, merchant, code, "10.01", out_trade_no="too-much"),
    )
    await refused(
        shop,
        user,
        422,
        "invalid_amount",
        lambda: charge(shop, merchant, code, "-1", out_trade_no="negative"),
    )
    assert (await charge(shop, merchant, code, "10.00")).status_code == 201
    assert await shop.wallet(user) == 0


async def test_a_cap_the_pin_cannot_lift_is_limit_exceeded(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000507", "9000.00")
    code = await show_code(shop, user)
    body = await refused(
        shop, user, 403, "limit_exceeded", lambda: charge(shop, merchant, code, "5000.01")
    )
    assert body["limit"] == "per_transaction"


async def webhook_events(shop: Shop, order_id: str) -> list[str]:
    async with shop.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.payload).where(outbox.c.topic == WEBHOOK_TOPIC).order_by(outbox.c.id)
        )
        return [row.payload["event_type"] for row in rows if row.payload["order_id"] == order_id]


async def test_above_the_no_pin_limit_the_user_confirms_with_the_pin(shop: Shop) -> None:
    merchant = await shop.merchant(webhook_url="https://till.example/hooks")
    user = await shop.customer("+8613900000508", "3000.00")
    code = await show_code(shop, user)
    # ¥900 without the PIN fits the ¥1,000 day; ¥200 more does not.
    assert (await charge(shop, merchant, code, "900.00")).status_code == 201
    code = await show_code(shop, user)
    before = await shop.wallet(user)
    response = await charge(shop, merchant, code, "200.00", out_trade_no="big-1")
    body = assert_problem(response, 401, "step_up_required")
    assert body["methods"] == ["payment_password"]
    challenge_id, order_id = body["challenge_id"], body["order_id"]
    assert await shop.wallet(user) == before  # nothing paid yet
    assert "payment_code_confirmation" in await shop.kinds(user)
    seen = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant))
    assert seen.json()["order"]["status"] == "awaiting_payment"
    assert await webhook_events(shop, order_id) == []
    # The code is used up by the pending charge.
    again = await charge(shop, merchant, code, "1.00", out_trade_no="reuse")
    assert_problem(again, 422, "payment_code_invalid")
    # The merchant asking again (new key) gets the same challenge.
    repeat = await charge(shop, merchant, code, "200.00", out_trade_no="big-1", key="k2")
    assert assert_problem(repeat, 401, "step_up_required")["challenge_id"] == challenge_id
    # A wrong PIN pays nothing.
    wrong = await confirm(shop, user, challenge_id, "000000")
    assert_problem(wrong, 403, "payment_password_invalid")
    assert await shop.wallet(user) == before
    # The right one pays, once.
    done = await confirm(shop, user, challenge_id)
    assert done.status_code == 201, done.text
    assert done.json()["payment"]["order_id"] == order_id
    assert await shop.wallet(user) == before - 200_00
    assert (await spends(shop, user))[-1] == ("payment_code", "pin", 200_00)
    twice = await confirm(shop, user, challenge_id, key="another")
    assert_problem(twice, 409, "order_not_payable")
    assert await shop.wallet(user) == before - 200_00
    seen = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant))
    assert seen.json()["order"]["status"] == "paid"
    assert await webhook_events(shop, order_id) == ["order.paid"]
    final = await charge(shop, merchant, code, "200.00", out_trade_no="big-1", key="k3")
    assert final.status_code == 200
    assert (final.json()["charge"]["status"], final.json()["charge"]["auth"]) == (
        "succeeded",
        "pin",
    )
    assert (await verify_ledger(shop.engine)).clean


async def test_a_pending_charge_expires(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000509", "3000.00")
    code = await show_code(shop, user)
    body = assert_problem(await charge(shop, merchant, code, "1000.01"), 401, "step_up_required")
    shop.clock.advance(timedelta(minutes=5))
    late = await confirm(shop, user, body["challenge_id"])
    assert_problem(late, 409, "order_not_payable")
    seen = await shop.client.get(
        f"/v1/merchant/orders/{body['order_id']}", headers=shop.key(merchant)
    )
    assert seen.json()["order"]["status"] == "expired"
    assert await shop.wallet(user) == 3000_00


async def test_only_the_charged_user_may_confirm_and_only_its_merchant_sees_it(
    shop: Shop,
) -> None:
    merchant_a = await shop.merchant("Shop A")
    merchant_b = await shop.merchant("Shop B")
    alice = await shop.customer("+8613900000510", "3000.00")
    mallory = await shop.customer("+8613900000511", "3000.00")
    code = await show_code(shop, alice)
    body = assert_problem(await charge(shop, merchant_a, code, "1500.00"), 401, "step_up_required")
    challenge_id, order_id = body["challenge_id"], body["order_id"]
    path = f"{CODE}/confirmations/{challenge_id}"
    assert_problem(await confirm(shop, mallory, challenge_id), 404, "not_found")
    as_merchant = await shop.client.post(
        path,
        json={"payment_password": PIN},
        headers=shop.key(merchant_a, **{"Idempotency-Key": "m"}),
    )
    assert_problem(as_merchant, 401, "unauthorized")
    anonymous = await shop.client.post(
        path, json={"payment_password": PIN}, headers={"Idempotency-Key": "a"}
    )
    assert_problem(anonymous, 401, "unauthorized")
    other = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant_b))
    assert_problem(other, 404, "not_found")
    assert_problem(await shop.client.get(CODE), 401, "unauthorized")
    assert_problem(await shop.client.get(CODE, headers=shop.key(merchant_a)), 401, "unauthorized")
    by_user = await shop.client.post(
        CHARGES,
        json={"payment_code": code, "amount": "1.00", "out_trade_no": "x"},
        headers=shop.auth(alice, **{"Idempotency-Key": "u"}),
    )
    assert_problem(by_user, 401, "unauthorized")
    assert await shop.wallet(alice) == 3000_00
    assert (await confirm(shop, alice, challenge_id)).status_code == 201


async def test_a_retried_charge_is_charged_once(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000512", "100.00")
    code = await show_code(shop, user)
    first = await charge(shop, merchant, code, "20.00", out_trade_no="T-1", key="same")
    replay = await charge(shop, merchant, code, "20.00", out_trade_no="T-1", key="same")
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    # Same out_trade_no with a freshly scanned code and a new key: the same charge, 200,
    # and the fresh code is not used up.
    fresh = await show_code(shop, user)
    repeat = await charge(shop, merchant, fresh, "20.00", out_trade_no="T-1", key="other")
    assert repeat.status_code == 200
    assert repeat.json()["charge"]["id"] == first.json()["charge"]["id"]
    conflict = await charge(shop, merchant, fresh, "21.00", out_trade_no="T-1", key="third")
    assert_problem(conflict, 409, "out_trade_no_conflict")
    assert await shop.wallet(user) == 80_00
    assert (await charge(shop, merchant, fresh, "1.00", out_trade_no="T-2")).status_code == 201


async def test_two_cashiers_scanning_one_code_charge_it_once(shop: Shop) -> None:
    merchant_a = await shop.merchant("Shop A")
    merchant_b = await shop.merchant("Shop B")
    user = await shop.customer("+8613900000513", "100.00")
    code = await show_code(shop, user)
    results = await asyncio.gather(
        charge(shop, merchant_a, code, "10.00", out_trade_no="A"),
        charge(shop, merchant_b, code, "10.00", out_trade_no="B"),
    )
    statuses = sorted(response.status_code for response in results)
    assert statuses == [201, 422], [response.text for response in results]
    assert await shop.wallet(user) == 90_00
