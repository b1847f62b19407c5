"""What paying a merchant costs the database: an order paid from the balance, a static QR
code paid, a payment-code charge confirmed with the PIN, and a refund.

Each test warms the path up with a request of the same shape (the first one opens the
ledger accounts and compiles the statements), then counts the second. The budgets are
today's counts; docs/performance.md ("Statement budgets") lists them with the statements
that look avoidable. ``POST /v1/merchant/charges`` (a charge below the no-PIN limit) is
counted in tests/payment_code/test_statement_budget.py.
"""

from __future__ import annotations

from collections.abc import Awaitable

import httpx
import pytest

from ewallet.merchants.views import NewMerchant
from tests.fixtures.accounts import TestUser
from tests.fixtures.payment_codes import charge, confirm, show_code
from tests.fixtures.statement_tally import Budget, Cost
from tests.statement_budgets.conftest import PIN, Counting

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Session, rerun check, the order's look-up with the PIN's attempt slot, and the money
# unit, which frees the slot and writes the Idempotency-Key's record with its answer
# (identity's payment_password_held; docs/http.md, "Claimed in the unit"). Before #17:
# 20 statements in 8 transactions, SQLite 35.
PAY_ORDER = Budget(
    postgresql=Cost(statements=18, transactions=4, driver=3),
    sqlite=Cost(statements=29, transactions=4),
)
# As PAY_ORDER, the code read in the look-up and again in the money unit, which makes the
# order; on PostgreSQL a pg_notify in a transaction of its own.
PAY_STATIC_QR = Budget(
    postgresql=Cost(statements=23, transactions=9, driver=3),
    sqlite=Cost(statements=37, transactions=8),
)
# Session, idempotency claim, 5 look-up units (rerun check, card payment, charge, funding,
# card), the rerun check and the charge's look-up again, PIN (2), money unit, stored answer.
CONFIRM_CHARGE = Budget(
    postgresql=Cost(statements=31, transactions=13, driver=3),
    sqlite=Cost(statements=51, transactions=13),
)
# Merchant key check, idempotency claim, order and payment look-up, 2 ledger-account
# look-ups, the refund's unit (merchant's deltas folded, re-reads, notice, webhook), answer.
REFUND = Budget(
    postgresql=Cost(statements=19, transactions=7, driver=3),
    sqlite=Cost(statements=33, transactions=7),
)


async def paid_order(c: Counting, merchant: NewMerchant, user: TestUser, number: str) -> str:
    order_id = await c.order(merchant, "12.30", out_trade_no=number)
    response = await c.pay(user, order_id)
    assert response.status_code == 201, response.text
    return order_id


async def test_paying_an_order_from_the_balance(counting: Counting) -> None:
    c = counting
    merchant = await c.merchant("Budget Bakery")
    user = await c.customer("+8613900009101", "200.00")
    await paid_order(c, merchant, user, "B-PAY-1")
    order_id = await c.order(merchant, "12.30", out_trade_no="B-PAY-2")
    await c.measure(c.pay(user, order_id), PAY_ORDER)


async def static_qr_token(c: Counting, merchant: NewMerchant) -> str:
    listed = await c.client.get("/v1/merchant/static-qr", headers=c.key(merchant))
    assert listed.status_code == 200, listed.text
    return str(listed.json()["items"][0]["token"])


async def test_paying_a_static_qr_code_with_the_pin(counting: Counting) -> None:
    c = counting
    merchant = await c.merchant("Budget Noodles")
    user = await c.customer("+8613900009102", "200.00")
    token = await static_qr_token(c, merchant)

    def pay(amount: str) -> Awaitable[httpx.Response]:
        return c.client.post(
            "/v1/payments/static-qr",
            json={"token": token, "amount": amount, "payment_password": PIN},
            headers=c.auth(user, **{"Idempotency-Key": f"qr-{amount}"}),
        )

    first = await pay("12.30")
    assert first.status_code == 201, first.text
    await c.measure(pay("23.40"), PAY_STATIC_QR)


async def test_confirming_a_payment_code_charge_with_the_pin(counting: Counting) -> None:
    c = counting
    merchant = await c.merchant("Budget Electronics")
    user = await c.customer("+8613900009103", "3000.00")

    async def challenge(amount: str) -> str:
        code = await show_code(c, user)
        response = await charge(c, merchant, code, amount)
        assert response.status_code == 401, response.text
        return str(response.json()["challenge_id"])

    warm = await confirm(c, user, await challenge("1200.00"))
    assert warm.status_code == 201, warm.text
    await c.measure(confirm(c, user, await challenge("1300.00")), CONFIRM_CHARGE)


async def test_refunding_a_paid_order(counting: Counting) -> None:
    c = counting
    merchant = await c.merchant("Budget Books")
    user = await c.customer("+8613900009104", "200.00")
    first = await paid_order(c, merchant, user, "B-REF-1")
    second = await paid_order(c, merchant, user, "B-REF-2")
    warm = await c.refund(merchant, first, "12.30", "R-1")
    assert warm.status_code == 201, warm.text
    await c.measure(c.refund(merchant, second, "12.30", "R-2"), REFUND)
