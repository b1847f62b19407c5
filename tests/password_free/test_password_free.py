"""Password-free small payments: opting in with the PIN, the cap, paying without the PIN,
and the step up to the PIN when the cap or the day's no-PIN allowance is passed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.fixtures.accounts import assert_problem
from tests.fixtures.shop import spend_records
from tests.password_free.conftest import (
    NO_PIN_COUNT,
    PIN,
    SETTING,
    Shop,
    TestUser,
    pay_without_pin,
    put_setting,
    turn_on,
)


async def setting(shop: Shop, user: TestUser) -> dict[str, Any]:
    response = await shop.client.get(SETTING, headers=shop.auth(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def no_pin_refused(shop: Shop, user: TestUser, order_id: str, reason: str) -> None:
    """A payment without the PIN that must step up, changing nothing at all."""
    before = await shop.state(user, order_id)
    response = await pay_without_pin(shop, user, order_id, key=f"{reason}-{order_id}")
    body = assert_problem(response, 401, "step_up_required")
    assert body["methods"] == ["payment_password"]
    assert body["reason"] == reason
    assert await shop.state(user, order_id) == before


async def test_off_by_default(shop: Shop) -> None:
    user = await shop.customer("+8613900000601")
    assert await setting(shop, user) == {
        "enabled": False,
        "per_payment_cap": None,
        "daily_cap": {"amount": "1000.00", "currency": "CNY"},
        "daily_count": NO_PIN_COUNT,
        "remaining_today": {"amount": "1000.00", "currency": "CNY"},
        "remaining_count_today": NO_PIN_COUNT,
    }


async def test_turning_on_needs_the_pin_and_a_cap_of_at_most_1000(shop: Shop) -> None:
    user = await shop.customer("+8613900000602")
    before = await shop.snapshot(user)
    for body, status, code in (
        ({"enabled": True, "per_payment_cap": "200.00"}, 422, "validation_error"),
        ({"enabled": True, "payment_password": PIN}, 422, "validation_error"),
        (
            {"enabled": True, "per_payment_cap": "1000.01", "payment_password": PIN},
            422,
            "validation_error",
        ),
        (
            {"enabled": True, "per_payment_cap": "0", "payment_password": PIN},
            422,
            "invalid_amount",
        ),
        (
            {"enabled": True, "per_payment_cap": "2.001", "payment_password": PIN},
            422,
            "invalid_amount",
        ),
    ):
        assert_problem(await put_setting(shop, user, **body), status, code)
    assert await shop.snapshot(user) == before  # no PIN attempt was spent on them
    wrong = await put_setting(
        shop, user, enabled=True, per_payment_cap="200.00", payment_password="000000"
    )
    assert_problem(wrong, 403, "payment_password_invalid")
    assert (await setting(shop, user))["enabled"] is False
    await turn_on(shop, user, "1000.00")
    now_on = await setting(shop, user)
    assert now_on["enabled"] is True
    assert now_on["per_payment_cap"] == {"amount": "1000.00", "currency": "CNY"}
    assert "password_free.enabled" in await shop.actions()
    assert "password_free_enabled" in await shop.kinds(user)


async def test_changing_the_cap_needs_the_pin_and_turning_off_does_not(shop: Shop) -> None:
    user = await shop.customer("+8613900000603")
    await turn_on(shop, user, "100.00")
    no_pin = await put_setting(shop, user, enabled=True, per_payment_cap="300.00")
    assert_problem(no_pin, 422, "validation_error")
    await turn_on(shop, user, "300.00")
    assert (await setting(shop, user))["per_payment_cap"]["amount"] == "300.00"
    off = await put_setting(shop, user, enabled=False)
    assert off.status_code == 200, off.text
    assert off.json()["enabled"] is False
    actions = [a for a in await shop.actions() if a.startswith("password_free.")]
    assert actions == [
        "password_free.enabled",
        "password_free.cap_changed",
        "password_free.disabled",
    ]
    kinds = [k for k in await shop.kinds(user) if k.startswith("password_free_")]
    assert kinds == ["password_free_enabled", "password_free_cap_changed", "password_free_disabled"]
    # Off again: nothing to do, nothing recorded.
    audit_count = len(await shop.actions())
    assert (await put_setting(shop, user, enabled=False)).status_code == 200
    assert len(await shop.actions()) == audit_count


async def test_a_small_payment_goes_through_without_the_pin(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000604", "100.00")
    await turn_on(shop, user, "50.00")
    order_id = await shop.order(merchant, "50.00")
    response = await pay_without_pin(shop, user, order_id)
    assert response.status_code == 201, response.text
    assert await shop.wallet(user) == 50_00
    async with shop.engine.connect() as conn:
        row = (await conn.execute(select(spend_records))).one()
    assert (row.channel, row.auth, row.amount) == ("payment", "none", 50_00)
    left = await setting(shop, user)
    assert left["remaining_today"]["amount"] == "950.00"
    assert left["remaining_count_today"] == NO_PIN_COUNT - 1


async def test_without_opting_in_or_over_the_cap_the_pin_is_asked_for(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000605", "100.00")
    order_id = await shop.order(merchant, "50.01")
    await no_pin_refused(shop, user, order_id, "password_free_off")
    await turn_on(shop, user, "50.00")
    await no_pin_refused(shop, user, order_id, "over_cap")
    # The client asks for the PIN and sends the payment again (a new key).
    paid = await shop.pay(user, order_id, key="with-pin")
    assert paid.status_code == 201, paid.text
    await put_setting(shop, user, enabled=False)
    other = await shop.order(merchant, "1.00", out_trade_no="after-off")
    await no_pin_refused(shop, user, other, "password_free_off")


async def test_the_daily_no_pin_count_and_total_step_up_to_the_pin(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000606", "3000.00")
    await turn_on(shop, user, "1000.00")
    for n in range(NO_PIN_COUNT):
        order_id = await shop.order(merchant, "1.00", out_trade_no=f"count-{n}")
        assert (await pay_without_pin(shop, user, order_id)).status_code == 201
    order_id = await shop.order(merchant, "1.00", out_trade_no="one-too-many")
    await no_pin_refused(shop, user, order_id, "daily_limit")
    assert (await shop.pay(user, order_id, key="pin")).status_code == 201


async def test_the_daily_no_pin_total_steps_up_to_the_pin(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000607", "3000.00")
    await turn_on(shop, user, "1000.00")
    first = await shop.order(merchant, "600.00", out_trade_no="first")
    assert (await pay_without_pin(shop, user, first)).status_code == 201
    second = await shop.order(merchant, "400.01", out_trade_no="second")
    await no_pin_refused(shop, user, second, "daily_limit")
    exactly = await shop.order(merchant, "400.00", out_trade_no="exactly")
    assert (await pay_without_pin(shop, user, exactly)).status_code == 201
    assert await shop.wallet(user) == 2000_00


async def test_a_frozen_account_cannot_pay_without_the_pin(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000608", "100.00")
    await turn_on(shop, user, "50.00")
    frozen = await shop.client.post(
        "/v1/me/freeze", json={"payment_password": PIN}, headers=shop.auth(user)
    )
    assert frozen.status_code == 200
    order_id = await shop.order(merchant, "5.00")
    before = await shop.state(user, order_id)
    assert_problem(await pay_without_pin(shop, user, order_id), 423, "account_frozen")
    assert await shop.state(user, order_id) == before
    # Turning it off needs no PIN, even while frozen: it only makes the account safer.
    assert (await put_setting(shop, user, enabled=False)).status_code == 200


async def test_the_setting_is_private(shop: Shop) -> None:
    merchant = await shop.merchant()
    assert_problem(await shop.client.get(SETTING), 401, "unauthorized")
    assert_problem(await shop.client.put(SETTING, json={"enabled": False}), 401, "unauthorized")
    assert_problem(await shop.client.get(SETTING, headers=shop.key(merchant)), 401, "unauthorized")
