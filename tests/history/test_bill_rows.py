"""A bill payment in the history says whom it paid and for what ("国网北京市电力公司 · 电费"),
in the list, the entry, the statement -- and so does its refund when the biller refused it."""

from __future__ import annotations

import csv
import io

from tests.bills.conftest import ACCOUNTS, PIN, Billing, billing, clock, fund
from tests.fixtures.accounts import assert_problem

__all__ = ["billing", "clock"]
ELECTRICITY = "国网北京市电力公司 · 电费"


async def test_a_bill_row_names_the_biller_everywhere(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    stranger = await billing.user(phone="+8613900000002", pin=PIN)
    await fund(billing, user, "500.00")
    paid = await billing.pay(user, ACCOUNTS["due"], "120.50")
    assert paid.status_code == 201, paid.text
    payment_id = paid.json()["bill_payment"]["id"]

    listed = await billing.client.get("/v1/me/transactions", headers=billing.auth(user))
    assert listed.status_code == 200, listed.text
    [bill] = [item for item in listed.json()["items"] if item["type"] == "bill"]
    assert bill["counterparty"] == ELECTRICITY
    assert (bill["direction"], bill["amount"]["amount"]) == ("out", "120.50")

    one = await billing.client.get(f"/v1/me/transactions/{bill['id']}", headers=billing.auth(user))
    assert one.json()["counterparty"] == ELECTRICITY
    assert one.json()["details"] == {
        "bill_payment_id": payment_id,
        "biller_id": "sgcc_bj",
        "biller_name": "State Grid Beijing Electric Power",
        "category": "electricity",
    }
    # Another user's entry is not theirs to read.
    assert_problem(
        await billing.client.get(
            f"/v1/me/transactions/{bill['id']}", headers=billing.auth(stranger)
        ),
        404,
        "not_found",
    )

    month = billing.clock.now().strftime("%Y-%m")
    statement = await billing.client.get(
        f"/v1/me/statements/{month}?format=csv", headers=billing.auth(user)
    )
    rows = list(csv.reader(io.StringIO(statement.content.decode("utf-8-sig"))))
    [line] = [row for row in rows if len(row) == 8 and row[2] == "缴费 bill"]
    assert (line[4], line[6]) == ("-120.50", ELECTRICITY)


async def test_the_refund_of_a_refused_bill_names_the_biller_too(billing: Billing) -> None:
    user = await billing.user(pin=PIN)
    await fund(billing, user, "500.00")
    assert_problem(await billing.pay(user, ACCOUNTS["reject"], "30.00"), 402, "biller_declined")
    listed = await billing.client.get("/v1/me/transactions", headers=billing.auth(user))
    named = [item for item in listed.json()["items"] if item["counterparty"] == ELECTRICITY]
    # The payment and the money coming back: both say which biller.
    assert sorted(item["direction"] for item in named) == ["in", "out"]
    assert await billing.balance(user) == 500_00
