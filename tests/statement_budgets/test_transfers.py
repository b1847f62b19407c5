"""What moving money to another wallet costs the database: a transfer by phone number, a
money request accepted, a split bill's share paid, and a receive code paid.

Each test warms the path up with a request of the same shape to the same payee (the first
one opens the ledger accounts and meets the payee for the first time), then counts the
second. The budgets are today's counts; docs/performance.md ("Statement budgets") lists
them with the statements that look avoidable.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from tests.fixtures.accounts import TestUser
from tests.fixtures.statement_tally import Budget, Cost
from tests.fixtures.transfers import transfer
from tests.statement_budgets.conftest import PIN, Counting

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Session; the rerun check, the payee look-up and the PIN's attempt slot in one unit; the
# money unit, which frees the slot, reads the transfer back and writes the Idempotency-Key's
# record with its answer (docs/http.md, "Claimed in the unit"; identity's
# payment_password_held). Before #17: 23 statements in 9 transactions (SQLite 38); with
# the key's record in the unit, 22 in 6 (SQLite 34).
TRANSFER = Budget(
    postgresql=Cost(statements=21, transactions=3, driver=3),
    sqlite=Cost(statements=30, transactions=3),
)
# As TRANSFER, with the request's look-up, its update and its re-read (a unit of its own),
# a second notice; the users' rows read 8 times in all (2 of them the PIN check's).
ACCEPT_REQUEST = Budget(
    postgresql=Cost(statements=27, transactions=8, driver=3),
    sqlite=Cost(statements=41, transactions=8),
)
# A split bill's share is a money request: the same path, the same statements.
PAY_SPLIT_SHARE = Budget(
    postgresql=Cost(statements=27, transactions=8, driver=3),
    sqlite=Cost(statements=41, transactions=8),
)
# As TRANSFER, with the code's look-up in a unit of its own.
PAY_RECEIVE_CODE = Budget(
    postgresql=Cost(statements=22, transactions=6, driver=3),
    sqlite=Cost(statements=34, transactions=6),
)


async def pair(c: Counting, payer_phone: str, payee_phone: str) -> tuple[TestUser, TestUser]:
    """A funded payer and a payee, both tier-III wallets."""
    return await c.customer(payer_phone, "1000.00"), await c.customer(payee_phone, "0.00")


async def test_a_transfer_by_phone_number(counting: Counting) -> None:
    c = counting
    payer, payee = await pair(c, "+8613900009201", "+8613900009202")
    assert (await transfer(c, payer, payee.phone, "10.00")).status_code == 201
    await c.measure(transfer(c, payer, payee.phone, "20.00"), TRANSFER)


async def ask(c: Counting, requester: TestUser, phone: str, amount: str) -> str:
    response = await c.client.post(
        "/v1/money-requests",
        json={"phone": phone, "amount": amount},
        headers=c.auth(requester, **{"Idempotency-Key": f"ask-{uuid.uuid4()}"}),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["money_request"]["id"])


def accept(c: Counting, payer: TestUser, request_id: str) -> Awaitable[httpx.Response]:
    return c.client.post(
        f"/v1/money-requests/{request_id}/accept",
        json={"payment_password": PIN},
        headers=c.auth(payer, **{"Idempotency-Key": f"accept-{request_id}"}),
    )


async def test_accepting_a_money_request(counting: Counting) -> None:
    c = counting
    payer, requester = await pair(c, "+8613900009211", "+8613900009212")
    warm = await accept(c, payer, await ask(c, requester, payer.phone, "10.00"))
    assert warm.status_code == 201, warm.text
    request_id = await ask(c, requester, payer.phone, "20.00")
    await c.measure(accept(c, payer, request_id), ACCEPT_REQUEST)


async def split_share(c: Counting, requester: TestUser, payer: TestUser, other: TestUser) -> str:
    """A split bill of 30.00 between ``payer`` and ``other``: the id of ``payer``'s share."""
    response = await c.client.post(
        "/v1/split-bills",
        json={"amount": "30.00", "payers": [{"phone": payer.phone}, {"phone": other.phone}]},
        headers=c.auth(requester, **{"Idempotency-Key": f"split-{uuid.uuid4()}"}),
    )
    assert response.status_code == 201, response.text
    shares: list[dict[str, Any]] = response.json()["split_bill"]["shares"]
    return str(shares[0]["id"])


async def test_paying_a_split_bills_share(counting: Counting) -> None:
    c = counting
    payer, requester = await pair(c, "+8613900009221", "+8613900009222")
    other = await c.customer("+8613900009223", "0.00")
    warm = await accept(c, payer, await split_share(c, requester, payer, other))
    assert warm.status_code == 201, warm.text
    share_id = await split_share(c, requester, payer, other)
    await c.measure(accept(c, payer, share_id), PAY_SPLIT_SHARE)


async def test_paying_a_receive_code(counting: Counting) -> None:
    c = counting
    payer, owner = await pair(c, "+8613900009231", "+8613900009232")
    code = await c.client.get("/v1/me/receive-code", headers=c.auth(owner))
    assert code.status_code == 200, code.text
    token = code.json()["token"]

    def pay(amount: str) -> Awaitable[httpx.Response]:
        return c.client.post(
            f"/v1/receive-codes/{token}/transfers",
            json={"amount": amount, "payment_password": PIN},
            headers=c.auth(payer, **{"Idempotency-Key": f"rc-{amount}"}),
        )

    assert (await pay("10.00")).status_code == 201
    await c.measure(pay("20.00"), PAY_RECEIVE_CODE)
