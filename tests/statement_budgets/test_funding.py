"""What money to and from the outside costs the wallet's database: a bill paid, a
withdrawal to one's own card, a top-up from a bound card, and a transfer to someone's
bank card.

The in-process sandbox bank and biller keep their books in databases of their own, which
the tally does not count: they are the other side of the wire. Each test warms the path
up with a request of the same shape, then counts the second. The budgets are today's
counts; docs/performance.md ("Statement budgets") lists them with the statements that look
avoidable.
"""

from __future__ import annotations

from collections.abc import Awaitable

import httpx
import pytest

from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import TestUser
from tests.fixtures.statement_tally import Budget, Cost
from tests.statement_budgets.conftest import PIN, Counting

pytestmark = pytest.mark.asyncio(loop_scope="module")

ICBC = TEST_CARDS[0]  # approves
LI_NA = TEST_CARDS[2]  # approves; the payee of a card transfer
DUE_ACCOUNT = "1000000001"  # State Grid Beijing's test account with a bill due (docs/bills.md)

# Session, idempotency claim, rerun check, biller, PIN (2 units), 2 ledger accounts, money
# unit, the biller's answer recorded, answer; the bill payment read 7 times on the way.
PAY_BILL = Budget(
    postgresql=Cost(statements=30, transactions=14, driver=3),
    sqlite=Cost(statements=51, transactions=14),
)
# Session, idempotency claim, rerun check, PIN (2 units), card, 3 ledger accounts, the hold's
# unit, the bank's answer and the hold settled in one unit, re-read, stored answer.
WITHDRAW = Budget(
    postgresql=Cost(statements=35, transactions=13, driver=5),
    sqlite=Cost(statements=56, transactions=13),
)
# Session, idempotency claim, rerun check, PIN (2 units), the top-up's row, 3 ledger
# accounts, the bank's answer and the credit in one unit, re-read, stored answer.
CARD_TOPUP = Budget(
    postgresql=Cost(statements=25, transactions=12, driver=3),
    sqlite=Cost(statements=44, transactions=12),
)
# As WITHDRAW, with the payee card's check in place of the own card's look-up.
CARD_TRANSFER = Budget(
    postgresql=Cost(statements=34, transactions=13, driver=5),
    sqlite=Cost(statements=55, transactions=13),
)


async def test_paying_a_bill(counting: Counting) -> None:
    c = counting
    user = await c.customer("+8613900009301", "500.00")

    def pay(amount: str) -> Awaitable[httpx.Response]:
        return c.client.post(
            "/v1/bill-payments",
            json={
                "biller_id": "sgcc_bj",
                "account_no": DUE_ACCOUNT,
                "amount": amount,
                "payment_password": PIN,
            },
            headers=c.auth(user, **{"Idempotency-Key": f"bill-{amount}"}),
        )

    assert (await pay("10.00")).status_code == 201
    await c.measure(pay("20.00"), PAY_BILL)


def to_own_card(
    c: Counting, user: TestUser, path: str, card_id: str, amount: str, **fields: str
) -> Awaitable[httpx.Response]:
    return c.client.post(
        path,
        json={"card_id": card_id, "amount": amount, "payment_password": PIN, **fields},
        headers=c.auth(user, **{"Idempotency-Key": f"{path}-{amount}"}),
    )


async def test_a_withdrawal_to_ones_own_card(counting: Counting) -> None:
    c = counting
    user, card_id = await c.card_customer("+8613900009311", ICBC, "500.00")
    assert (await to_own_card(c, user, "/v1/withdrawals", card_id, "10.00")).status_code == 201
    await c.measure(to_own_card(c, user, "/v1/withdrawals", card_id, "20.00"), WITHDRAW)


async def test_a_top_up_from_a_bound_card(counting: Counting) -> None:
    c = counting
    user, card_id = await c.card_customer("+8613900009321", ICBC)
    first = await to_own_card(c, user, "/v1/topups", card_id, "10.00", method="card")
    assert first.status_code == 201, first.text
    topup = to_own_card(c, user, "/v1/topups", card_id, "20.00", method="card")
    await c.measure(topup, CARD_TOPUP)


async def test_a_transfer_to_someones_bank_card(counting: Counting) -> None:
    c = counting
    user = await c.customer("+8613900009331", "500.00")

    def send(amount: str) -> Awaitable[httpx.Response]:
        return c.client.post(
            "/v1/card-transfers",
            json={
                "card_number": LI_NA.number,
                "payee_name": LI_NA.holder_name,
                "amount": amount,
                "payment_password": PIN,
                "arrival": "realtime",
            },
            headers=c.auth(user, **{"Idempotency-Key": f"ct-{amount}"}),
        )

    assert (await send("10.00")).status_code == 201
    await c.measure(send("20.00"), CARD_TRANSFER)
