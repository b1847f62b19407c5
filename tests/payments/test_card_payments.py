"""Paying an order from a bound card, or the balance plus the card (docs/card-payments.md):
the split is exact, the card is debited once, a decline leaves nothing, an unknown answer
is settled once by the job, racing payments of one order pay it once, the card's daily cap
holds at its boundary, and another user's card is not found."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import card_payments, payments, spend_records, topups
from ewallet.payments.card_funding.jobs import (
    CardPaymentSettleReport,
    settle_pending_card_payments,
)
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import PIN, assert_problem, make_app
from tests.fixtures.cards import bind
from tests.fixtures.funding import BANK_GIVE_UP_SECONDS, warm_sandbox_bank
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop, TestUser, shop_settings

ICBC = TEST_CARDS[0]


@pytest.fixture
async def card_shop(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Shop]:
    quick = shop_settings(
        settings, bank_timeout_seconds=BANK_GIVE_UP_SECONDS, card_payment_daily_limit_minor=500_00
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Shop(engine, quick, clock, security, client, app_services(app), app)


async def card_customer(shop: Shop, phone: str, funds: str) -> tuple[TestUser, str]:
    user = await shop.customer(phone, funds)
    card = await bind(shop, user, ICBC)
    return user, str(card["id"])


async def pay(
    shop: Shop,
    user: TestUser,
    order_id: str,
    source: str,
    card_id: str | None,
    *,
    key: str | None = None,
    pin: str | None = PIN,
) -> httpx.Response:
    body: dict[str, Any] = {"order_id": order_id, "funding": {"source": source}}
    if card_id is not None:
        body["funding"]["card_id"] = card_id
    if pin is not None:
        body["payment_password"] = pin
    return await shop.client.post(
        "/v1/payments",
        json=body,
        headers=shop.auth(user, **{"Idempotency-Key": key or f"card-{order_id}-{user.id}"}),
    )


async def bank_debits(shop: Shop, user: TestUser) -> list[int]:
    """The amounts (fen) the bank's settlement file shows debited for the user's top-ups."""
    async with shop.engine.connect() as conn:
        ids = {
            row.id for row in await conn.execute(select(topups).where(topups.c.user_id == user.id))
        }
    day = (shop.clock.now() + timedelta(hours=8)).date()
    rows = await shop.services.bank.settlement(day)
    return [row.amount.minor for row in rows if row.request_id.removeprefix("topup:") in ids]


async def card_rows(shop: Shop, user: TestUser) -> list[Any]:
    async with shop.engine.connect() as conn:
        query = select(card_payments).where(card_payments.c.user_id == user.id)
        return list(await conn.execute(query))


async def wallet_row(shop: Shop, user: TestUser) -> tuple[int, int]:
    """The wallet's posted balance and what is on holds."""
    account = await shop.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert account is not None
    return account.posted, account.pending_debits


async def suspense(shop: Shop) -> int:
    account = await shop.ledger.account_by_code("suspense:CNY")
    return 0 if account is None else account.posted


async def settle(shop: Shop) -> CardPaymentSettleReport:
    return await settle_pending_card_payments(shop.services)


async def test_balance_and_card_split_is_exact_and_pays_once(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001601", "30.00")
    order_id = await shop.order(merchant, "100.00")
    response = await pay(shop, user, order_id, "balance_and_card", card_id)
    assert response.status_code == 201, response.text
    payment = response.json()["payment"]
    assert payment["status"] == "succeeded"
    assert payment["funding"] == {
        "source": "balance_and_card",
        "balance": {"amount": "30.00", "currency": "CNY"},
        "card": {"amount": "70.00", "currency": "CNY"},
        "card_id": card_id,
    }
    assert await wallet_row(shop, user) == (0, 0)  # the balance spent, no hold left
    assert await bank_debits(shop, user) == [70_00]  # the card debited once, for the rest
    # The merchant is credited once, the ordinary entry: 100.00 less 0.38 %.
    assert await shop.merchant_balance(merchant) == 100_00 - 38
    order = await shop.order_row(order_id)
    assert (order.status, order.payment_id) == ("paid", payment["id"])
    (row,) = await card_rows(shop, user)
    assert (row.status, row.balance_part, row.card_part) == ("succeeded", 30_00, 70_00)
    assert await shop.count(payments, payments.c.user_id == user.id) == 1
    assert await shop.count(spend_records, spend_records.c.user_id == user.id) == 1
    # One notice for one payment: the top-up that funded it says nothing of its own.
    assert "topup_succeeded" not in await shop.kinds(user)
    assert "payment_succeeded" in await shop.kinds(user)
    read = await shop.client.get(f"/v1/payments/{payment['id']}", headers=shop.auth(user))
    assert read.json()["payment"] == payment
    # The same request again answers the same payment; the card is not debited again.
    again = await pay(shop, user, order_id, "balance_and_card", card_id)
    assert again.json() == response.json()
    assert await bank_debits(shop, user) == [70_00]
    assert (await settle(shop)).examined == 0
    assert (await verify_ledger(shop.engine)).clean


async def test_all_from_the_card_leaves_the_balance(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001602", "50.00")
    order_id = await shop.order(merchant, "20.00")
    response = await pay(shop, user, order_id, "card", card_id)
    assert response.status_code == 201, response.text
    assert response.json()["payment"]["funding"]["balance"]["amount"] == "0.00"
    assert await wallet_row(shop, user) == (50_00, 0)
    assert await bank_debits(shop, user) == [20_00]
    assert (await shop.order_row(order_id)).status == "paid"
    assert (await verify_ledger(shop.engine)).clean


async def test_a_balance_that_covers_it_does_not_touch_the_card(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001603", "50.00")
    order_id = await shop.order(merchant, "20.00")
    response = await pay(shop, user, order_id, "balance_and_card", card_id)
    assert response.status_code == 201, response.text
    assert response.json()["payment"]["funding"] is None
    assert await wallet_row(shop, user) == (30_00, 0)
    assert await bank_debits(shop, user) == []
    assert await card_rows(shop, user) == []


async def test_a_decline_leaves_the_order_unpaid_and_the_balance_untouched(
    card_shop: Shop,
) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001604", "10.00")
    order_id = await shop.order(merchant, "30.53")  # the card part 20.53: declined
    before = await shop.order_row(order_id)
    response = await pay(shop, user, order_id, "balance_and_card", card_id)
    assert_problem(response, 402, "bank_declined")
    assert await wallet_row(shop, user) == (10_00, 0)  # untouched, no hold left
    assert await bank_debits(shop, user) == []
    after = await shop.order_row(order_id)
    assert (after.status, after.payment_id, after.reserved_by) == ("awaiting_payment", None, None)
    assert after.expires_at == before.expires_at
    assert await shop.merchant_balance(merchant) == 0
    assert await shop.count(payments, payments.c.user_id == user.id) == 0
    (row,) = await card_rows(shop, user)
    assert (row.status, row.request_key) == ("failed", None)
    assert await suspense(shop) == 0
    # The spend is no longer counted against the day's limits.
    async with shop.engine.connect() as conn:
        (record,) = await conn.execute(
            select(spend_records).where(spend_records.c.user_id == user.id)
        )
    assert record.released_at is not None
    # The order can be paid again, from the balance once it suffices.
    await shop.fund(user, "30.00")
    paid = await shop.pay(user, order_id, key="balance-after-decline")
    assert paid.status_code == 201, paid.text
    assert (await verify_ledger(shop.engine)).clean


async def test_a_timeout_is_pending_then_settled_once_by_the_job(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001605", "10.00")
    order_id = await shop.order(merchant, "30.52")  # 20.52 debited, then the bank errs
    response = await pay(shop, user, order_id, "balance_and_card", card_id)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["code"], body["payment"]["status"]) == ("operation_pending", "pending")
    payment_id = body["payment"]["id"]
    # The balance part is on hold; the order is kept for this payment.
    assert await wallet_row(shop, user) == (10_00, 10_00)
    assert await suspense(shop) == -20_52
    other = await shop.customer("+8613900001606", "100.00")
    assert_problem(await shop.pay(other, order_id), 409, "order_not_payable")
    first = await settle(shop)
    second = await settle(shop)
    assert (first.paid, second.examined) == ([payment_id], 0)
    assert await bank_debits(shop, user) == [20_52]
    assert await wallet_row(shop, user) == (0, 0)
    assert await suspense(shop) == 0
    assert await shop.merchant_balance(merchant) == 30_52 - 12
    order = await shop.order_row(order_id)
    assert (order.status, order.payment_id) == ("paid", payment_id)
    read = await shop.client.get(f"/v1/payments/{payment_id}", headers=shop.auth(user))
    assert read.json()["payment"]["status"] == "succeeded"
    assert await shop.count(payments, payments.c.order_id == order_id) == 1
    assert (await verify_ledger(shop.engine)).clean


async def test_a_debit_the_bank_never_saw_is_released_after_the_grace(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001607", "10.00")
    order_id = await shop.order(merchant, "30.51")  # the card part times out, never arrives
    response = await pay(shop, user, order_id, "balance_and_card", card_id)
    assert response.status_code == 202, response.text
    payment_id = response.json()["payment"]["id"]
    assert (await settle(shop)).still_pending == [payment_id]
    shop.clock.advance(timedelta(minutes=31))
    assert (await settle(shop)).released == [payment_id]
    assert (await settle(shop)).examined == 0
    assert await wallet_row(shop, user) == (10_00, 0)
    assert await suspense(shop) == 0
    assert await bank_debits(shop, user) == []
    assert (await shop.order_row(order_id)).reserved_by is None
    assert "card_payment_failed" in await shop.kinds(user)
    read = await shop.client.get(f"/v1/payments/{payment_id}", headers=shop.auth(user))
    assert read.json()["payment"]["status"] == "failed"
    assert (await verify_ledger(shop.engine)).clean


async def test_a_debit_for_an_order_that_expired_meanwhile_stays_in_the_wallet(
    card_shop: Shop,
) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001608", "10.00")
    order_id = await shop.order(merchant, "30.52", expires_in=600)
    response = await pay(shop, user, order_id, "balance_and_card", card_id)
    assert response.status_code == 202, response.text
    shop.clock.advance(timedelta(minutes=11))  # the order expires before the job runs
    report = await settle(shop)
    assert report.kept == [response.json()["payment"]["id"]]
    # Never lost: the balance free again, the card's 20.52 in the wallet as a top-up.
    assert await wallet_row(shop, user) == (10_00 + 20_52, 0)
    assert await shop.merchant_balance(merchant) == 0
    assert await bank_debits(shop, user) == [20_52]
    assert "card_payment_kept" in await shop.kinds(user)
    assert (await shop.order_row(order_id)).status == "awaiting_payment"
    assert (await verify_ledger(shop.engine)).clean


async def test_racing_payments_of_one_order_pay_it_once(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001609", "0.00")
    order_id = await shop.order(merchant, "40.00")
    answers = await asyncio.gather(
        *(pay(shop, user, order_id, "card", card_id, key=f"race-{n}") for n in range(2))
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201, 409], [answer.text for answer in answers]
    assert await bank_debits(shop, user) == [40_00]
    assert await shop.count(payments, payments.c.order_id == order_id) == 1
    assert await shop.merchant_balance(merchant) == 40_00 - 15
    assert (await verify_ledger(shop.engine)).clean


async def test_the_card_daily_cap_holds_at_its_boundary(card_shop: Shop) -> None:
    shop = card_shop  # the cap is 500.00 a day here
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001610", "0.00")
    first = await shop.order(merchant, "300.00", out_trade_no="CAP-1")
    assert (await pay(shop, user, first, "card", card_id)).status_code == 201
    over = await shop.order(merchant, "200.01", out_trade_no="CAP-2")
    before = await shop.state(user, over)
    refused = await pay(shop, user, over, "card", card_id)
    assert_problem(refused, 403, "limit_exceeded")
    assert refused.json()["limit"] == "card_payment_daily"
    assert refused.json()["remaining"] == {"amount": "200.00", "currency": "CNY"}
    assert await shop.state(user, over) == before  # nothing at all changed
    assert await bank_debits(shop, user) == [300_00]
    exact = await shop.order(merchant, "200.00", out_trade_no="CAP-3")
    assert (await pay(shop, user, exact, "card", card_id)).status_code == 201
    assert await bank_debits(shop, user) == [300_00, 200_00]
    # The next China day the cap is whole again.
    shop.clock.advance(timedelta(days=1))
    tomorrow = await shop.order(merchant, "200.01", out_trade_no="CAP-4")
    assert (await pay(shop, user, tomorrow, "card", card_id)).status_code == 201


async def test_another_users_card_is_not_found_and_nothing_is_debited(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    owner, card_id = await card_customer(shop, "+8613900001611", "0.00")
    thief = await shop.customer("+8613900001612", "5.00")
    order_id = await shop.order(merchant, "20.00")
    before = await shop.state(thief, order_id)
    response = await pay(shop, thief, order_id, "balance_and_card", card_id)
    assert_problem(response, 404, "not_found")
    assert await shop.state(thief, order_id) == before
    assert await bank_debits(shop, owner) == []
    assert await card_rows(shop, thief) == []


async def test_a_card_payment_needs_the_payment_password_and_a_card(card_shop: Shop) -> None:
    shop = card_shop
    merchant = await shop.merchant()
    user, card_id = await card_customer(shop, "+8613900001613", "0.00")
    order_id = await shop.order(merchant, "20.00")
    no_pin = await pay(shop, user, order_id, "card", card_id, pin=None, key="no-pin")
    assert_problem(no_pin, 401, "step_up_required")
    no_card = await pay(shop, user, order_id, "card", None, key="no-card")
    assert_problem(no_card, 422, "validation_error")
    wrong_pin = await pay(shop, user, order_id, "card", card_id, pin="000000", key="bad-pin")
    assert_problem(wrong_pin, 403, "payment_password_invalid")
    assert await bank_debits(shop, user) == []
    assert (await shop.order_row(order_id)).reserved_by is None
