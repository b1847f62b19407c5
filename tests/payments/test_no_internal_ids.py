"""No answer names an internal ledger account, and orders and charges come in CNY only.

``insufficient_balance`` used to carry ``account wallet:<user>:CNY would be overdrawn`` as
its English detail and the ledger account's row id as an ``account_id`` member; a merchant
could create a USD order that no wallet can pay, whose payer was then told "余额不足" while
holding yuan. Now the ledger's refusals name nothing internal (the account goes to the
log), and an order or charge in a currency wallets do not hold is
``422 currency_not_supported`` with nothing written.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.ledger.errors import InsufficientBalanceError
from tests.fixtures.accounts import PIN, assert_problem
from tests.fixtures.payment_codes import charge, everything, show_code
from tests.fixtures.shop import Shop, orders

INTERNAL = re.compile(r"(wallet|merchant|bank_settlement|cash_vault|suspense):|account_id")


def assert_no_internal_ids(body: dict[str, Any], *user_ids: str) -> None:
    """No account code, no user id, and no member beyond the five standard ones (the
    ledger account's row id used to be an ``account_id`` member)."""
    text = repr(body)
    assert not INTERNAL.search(text), body
    for user_id in user_ids:
        assert user_id not in text, (user_id, body)
    assert set(body) == {"type", "title", "status", "detail", "code"}, body


@pytest.mark.parametrize("language", ["en", "zh-CN"])
async def test_insufficient_balance_on_a_payment_names_no_account(
    shop: Shop, language: str
) -> None:
    merchant = await shop.merchant()
    poor = await shop.customer("+8613900000501", "10.00")
    order_id = await shop.order(merchant, "10.01")
    response = await shop.client.post(
        "/v1/payments",
        json={"order_id": order_id, "payment_password": PIN},
        headers=shop.auth(poor, **{"Idempotency-Key": "poor-1", "Accept-Language": language}),
    )
    body = assert_problem(response, 402, "insufficient_balance")
    assert_no_internal_ids(body, poor.id)


async def test_insufficient_balance_on_a_transfer_names_no_account(shop: Shop) -> None:
    sender = await shop.customer("+8613900000502", "5.00")
    payee = await shop.customer("+8613900000503", "0")
    response = await shop.client.post(
        "/v1/transfers",
        json={
            "to_phone": payee.phone,
            "amount": "5.01",
            "payment_password": PIN,
            "acknowledge_new_payee": True,
        },
        headers=shop.auth(sender, **{"Idempotency-Key": "t-1", "Accept-Language": "en"}),
    )
    body = assert_problem(response, 402, "insufficient_balance")
    assert_no_internal_ids(body, sender.id, payee.id)


async def test_the_ledger_refusal_itself_carries_nothing_internal(shop: Shop) -> None:
    """The source every answer (payment, transfer, withdrawal, bill) takes its text from."""
    ledger = Ledger(shop.engine, clock=FrozenClock())
    wallet = await chart.open_account(ledger, chart.wallet("u_poor"))
    bank = await chart.open_account(ledger, chart.bank_settlement("SOMEBANK"))
    with pytest.raises(InsufficientBalanceError) as refused:
        await ledger.transfer(
            key="overdraw",
            debit_account_id=wallet.id,
            credit_account_id=bank.id,
            amount=Money.parse("1.00"),
            kind=TransactionKind.WITHDRAWAL,
        )
    error = refused.value
    assert error.extra == {}
    assert "u_poor" not in (error.detail or "")
    assert "wallet:" not in (error.detail or "")
    assert str(wallet.id) not in (error.detail or "")
    assert error.internal is not None
    assert "wallet:u_poor:CNY" in error.internal


async def test_a_usd_order_is_refused_and_writes_nothing(shop: Shop) -> None:
    merchant = await shop.merchant()
    for currency in ("USD", "XYZ", "cny"):
        response = await shop.create_order(
            merchant, "10.00", currency=currency, out_trade_no=f"U-{currency}"
        )
        body = assert_problem(response, 422, "currency_not_supported")
        assert body["title"] == "不支持该币种"
    english = await shop.client.post(
        "/v1/merchant/orders",
        json={"out_trade_no": "U-en", "amount": "10.00", "currency": "USD", "subject": "x"},
        headers=shop.key(merchant, **{"Accept-Language": "en"}),
    )
    assert assert_problem(english, 422, "currency_not_supported")["title"] == (
        "This currency is not supported"
    )
    assert await shop.count(orders) == 0
    assert (await shop.create_order(merchant, "10.00", currency="CNY")).status_code == 201


async def test_a_usd_charge_is_refused_and_leaves_the_code_unused(shop: Shop) -> None:
    merchant = await shop.merchant()
    payer = await shop.customer("+8613900000504", "1016.00")
    code = await show_code(shop, payer)
    before = await everything(shop, payer)
    response: httpx.Response = await charge(shop, merchant, code, "10.00", currency="USD")
    assert_problem(response, 422, "currency_not_supported")
    assert await everything(shop, payer) == before
    assert (await charge(shop, merchant, code, "10.00", out_trade_no="CNY-1")).status_code == 201


async def test_a_usd_order_from_before_the_rule_is_refused_as_such(shop: Shop) -> None:
    # An order written before creation refused other currencies: paying it says what is
    # wrong (currency_not_supported), not that ¥1,016 falls short, and moves nothing.
    merchant = await shop.merchant()
    payer = await shop.customer("+8613900000505", "1016.00")
    order_id = await shop.order(merchant, "10.00", out_trade_no="LEGACY-USD")
    async with shop.engine.begin() as conn:
        await conn.execute(orders.update().where(orders.c.id == order_id).values(currency="USD"))
    response = await shop.client.post(
        "/v1/payments",
        json={"order_id": order_id, "payment_password": PIN},
        headers=shop.auth(payer, **{"Idempotency-Key": "legacy-usd"}),
    )
    assert_problem(response, 422, "currency_not_supported")
    assert await shop.wallet(payer) == 1016_00
    assert await shop.merchant_balance(merchant) == 0
