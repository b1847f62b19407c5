"""Merchant fees in the ledger: a payment's one entry credits the merchant the amount less
the fee and fee revenue the fee; refunds give back the fee's share; per-merchant terms."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.ledger.verify import verify_ledger
from ewallet.models.payments import Payment, Refund
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import make_app
from tests.fixtures.serving import serving
from tests.fixtures.shop import Shop, shop_settings
from tests.fixtures.staff import bearer, make_staff, staff_token

payments = cast(Table, Payment.__table__)
refunds = cast(Table, Refund.__table__)
FEES = "fee_revenue:CNY"


async def operator(shop: Shop) -> dict[str, str]:
    member = await make_staff(shop.engine, shop.security, shop.clock, "operator")
    return bearer(
        await staff_token(shop.engine, shop.security, shop.settings, shop.clock, member.id)
    )


async def payment_row(shop: Shop, order_id: str) -> Any:
    async with shop.engine.connect() as conn:
        return (await conn.execute(select(payments).where(payments.c.order_id == order_id))).one()


async def postings(shop: Shop, transaction_id: str) -> dict[str, int]:
    """Each account's signed amount in the transaction (debits positive), by code kind."""
    ledger = shop.ledger
    found = await ledger.transaction(transaction_id)
    assert found is not None
    moved: dict[str, int] = {}
    for posting in found.postings:
        account = await ledger.account(posting.account_id)
        moved[account.code.split(":")[0]] = posting.amount
    return moved


async def test_a_payment_books_the_fee_leg_in_the_same_transaction(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000801", "100.00")
    order_id = await shop.order(merchant, "12.30")
    paid = await shop.pay(user, order_id)
    assert paid.status_code == 201, paid.text
    assert "fee" not in paid.json()["payment"]  # the payer is not shown the merchant's fee
    row = await payment_row(shop, order_id)
    assert (row.fee, row.fee_returned) == (5, 0)  # 0.38 % of 12.30 = 4.674 fen
    assert await postings(shop, row.ledger_transaction_id) == {
        "wallet": 12_30,
        "merchant": -12_25,
        "fee_revenue": -5,
    }
    assert await shop.merchant_balance(merchant) + await shop.posted(FEES) == 12_30
    order = await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant))
    body = order.json()["order"]
    assert body["fee"] == {"amount": "0.05", "currency": "CNY"}
    assert body["net"] == {"amount": "12.25", "currency": "CNY"}
    unpaid = await shop.order(merchant, "3.00", out_trade_no="unpaid")
    shown = await shop.client.get(f"/v1/merchant/orders/{unpaid}", headers=shop.key(merchant))
    assert shown.json()["order"]["fee"]["amount"] == "0.00"
    assert shown.json()["order"]["net"]["amount"] == "0.00"
    assert (await verify_ledger(shop.engine)).clean


async def test_partial_refunds_return_the_fee_share_and_the_last_the_rest(shop: Shop) -> None:
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000802", "200.00")
    order_id = await shop.order(merchant, "100.00")
    assert (await shop.pay(user, order_id)).status_code == 201
    assert await shop.posted(FEES) == 38
    returned = []
    for number, amount in (("F-1", "33.33"), ("F-2", "33.33"), ("F-3", "33.34")):
        response = await shop.refund(merchant, order_id, amount, number)
        assert response.status_code == 201, response.text
        refund = response.json()["refund"]
        returned.append(refund["fee_returned"]["amount"])
        transaction = await refund_transaction(shop, refund["id"])
        moved = await postings(shop, transaction)
        share = int(refund["fee_returned"]["amount"].replace(".", ""))
        assert moved["wallet"] == -int(amount.replace(".", ""))
        assert moved["fee_revenue"] == share
        assert moved["merchant"] == int(amount.replace(".", "")) - share
    # floor(38 * 33.33 %) = 12, floor(38 * 66.66 %) = 25: shares 12, 13, and the rest 13.
    assert returned == ["0.12", "0.13", "0.13"]
    assert await shop.posted(FEES) == 0
    assert await shop.merchant_balance(merchant) == 0
    assert await shop.wallet(user) == 200_00
    row = await payment_row(shop, order_id)
    assert (row.fee, row.fee_returned, row.refunded_amount) == (38, 38, 100_00)
    body = (
        await shop.client.get(f"/v1/merchant/orders/{order_id}", headers=shop.key(merchant))
    ).json()["order"]
    assert (body["fee"]["amount"], body["net"]["amount"]) == ("0.00", "0.00")
    assert (await verify_ledger(shop.engine)).clean


async def refund_transaction(shop: Shop, refund_id: str) -> str:
    async with shop.engine.connect() as conn:
        found = await conn.scalar(
            select(refunds.c.ledger_transaction_id).where(refunds.c.id == refund_id)
        )
    assert isinstance(found, str)
    return found


async def test_a_merchant_s_own_terms_override_the_defaults(shop: Shop) -> None:
    staff = await operator(shop)
    special = await shop.merchant("Tea House")
    usual = await shop.merchant("Corner Bakery")
    path = f"/v1/staff/merchants/{special.merchant.id}"
    changed = await shop.client.patch(
        path, json={"fee_rate_bp": 100, "fee_minimum": "0.50"}, headers=staff
    )
    assert changed.status_code == 200, changed.text
    shown = changed.json()["merchant"]
    assert shown["fee_rate_bp"] == 100
    assert shown["fee_minimum"] == {"amount": "0.50", "currency": "CNY"}
    user = await shop.customer("+8613900000803", "200.00")
    for merchant, amount, fee in (
        (special, "10.00", 50),
        (special, "80.00", 80),
        (usual, "80.00", 30),
    ):
        order_id = await shop.order(merchant, amount, out_trade_no=f"O-{amount}")
        assert (await shop.pay(user, order_id)).status_code == 201
        assert (await payment_row(shop, order_id)).fee == fee
    # Back on the defaults: null removes the merchant's own terms.
    reset = await shop.client.patch(
        path, json={"fee_rate_bp": None, "fee_minimum": None}, headers=staff
    )
    assert (reset.json()["merchant"]["fee_rate_bp"], reset.json()["merchant"]["fee_minimum"]) == (
        None,
        None,
    )
    order_id = await shop.order(special, "5.00", out_trade_no="after-reset")
    assert (await shop.pay(user, order_id)).status_code == 201
    assert (await payment_row(shop, order_id)).fee == 2  # 1.9 fen at 0.38 %
    assert await shop.posted(FEES) == 50 + 80 + 30 + 2
    assert (await verify_ledger(shop.engine)).clean


async def test_a_fee_as_large_as_the_payment_leaves_out_the_merchant_leg(shop: Shop) -> None:
    staff = await operator(shop)
    merchant = await shop.merchant()
    path = f"/v1/staff/merchants/{merchant.merchant.id}"
    assert (await shop.client.patch(path, json={"fee_minimum": "1.00"}, headers=staff)).is_success
    user = await shop.customer("+8613900000804", "10.00")
    order_id = await shop.order(merchant, "0.50")
    assert (await shop.pay(user, order_id)).status_code == 201
    row = await payment_row(shop, order_id)
    assert row.fee == 50
    assert await postings(shop, row.ledger_transaction_id) == {"wallet": 50, "fee_revenue": -50}
    assert await shop.merchant_balance(merchant) == 0
    refunded = await shop.refund(merchant, order_id, "0.50", "ALL")
    assert refunded.status_code == 201, refunded.text
    transaction = await refund_transaction(shop, refunded.json()["refund"]["id"])
    assert await postings(shop, transaction) == {"wallet": -50, "fee_revenue": 50}
    assert await shop.wallet(user) == 10_00
    assert (await verify_ledger(shop.engine)).clean


@pytest.fixture
async def keeping_shop(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Shop]:
    """The shop with ``merchant_fee_refund_policy = "none"``: refunds return no fee."""
    quick = shop_settings(settings, merchant_fee_refund_policy="none")
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Shop(engine, quick, clock, security, client, app_services(app), app)


async def test_policy_none_keeps_the_fee_on_refunds(keeping_shop: Shop) -> None:
    shop = keeping_shop
    merchant = await shop.merchant()
    user = await shop.customer("+8613900000805", "200.00")
    first = await shop.order(merchant, "100.00", out_trade_no="A")
    second = await shop.order(merchant, "50.00", out_trade_no="B")
    for order_id in (first, second):
        assert (await shop.pay(user, order_id)).status_code == 201
    fees = 38 + 19
    assert await shop.posted(FEES) == fees
    refunded = await shop.refund(merchant, first, "100.00", "R-A")
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["refund"]["fee_returned"]["amount"] == "0.00"
    # The merchant paid the whole refund: the first payment's fee came out of its takings.
    assert await shop.posted(FEES) == fees
    assert await shop.merchant_balance(merchant) == 150_00 - fees - 100_00
    order = refunded.json()["order"]
    assert (order["fee"]["amount"], order["net"]["amount"]) == ("0.38", "-0.38")
    assert (await verify_ledger(shop.engine)).clean
