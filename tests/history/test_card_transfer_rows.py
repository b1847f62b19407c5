"""A transfer to another person's card in the history: its own type (``card_transfer``)
naming the bank, the card's last four and the payee masked ("工商银行 ****1234 李*"), its
fee line naming the same, the type filter, the entry's details, the monthly CSV statement
and the chart's shares -- and another user's entry is not found (both databases)."""

from __future__ import annotations

import csv
import io
from typing import Any

from ewallet.history.service import month_spending
from ewallet.sandbox.bank.cards import TEST_CARDS
from tests.fixtures.accounts import PIN, assert_problem
from tests.fixtures.withdrawals import ICBC, Withdrawing, clock, withdrawing

__all__ = ["clock", "withdrawing"]
LI_NA = TEST_CARDS[2]  # the sandbox bank pays this card (holder 李娜)


async def items(h: Withdrawing, user: Any, query: str = "") -> list[dict[str, Any]]:
    listed = await h.client.get(f"/v1/me/transactions{query}", headers=h.auth(user))
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


async def test_a_card_transfer_and_its_fee_name_the_bank_card_and_payee(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000041", ICBC, "1000.00")
    stranger, _ = await h.customer("+8613900000042", ICBC, "0")
    sent = await h.client.post(
        "/v1/card-transfers",
        json={
            "card_number": LI_NA.number,
            "payee_name": LI_NA.holder_name,
            "amount": "600.00",  # ¥500 over the free quota: a 0.50 fee
            "payment_password": PIN,
        },
        headers=h.auth(user, **{"Idempotency-Key": "history-ct"}),
    )
    assert sent.status_code == 201, sent.text
    transfer_id = sent.json()["card_transfer"]["id"]
    withdrawn = await h.withdraw(user, card_id, "10.00")  # to the own card: a withdrawal
    assert withdrawn.status_code == 201, withdrawn.text

    named = f"{LI_NA.bank_name} ****{LI_NA.number[-4:]} 李*"
    details = {
        "card_transfer_id": transfer_id,
        "bank_name": LI_NA.bank_name,
        "card_last_four": LI_NA.number[-4:],
        "payee_name_masked": "李*",
    }
    listed = await items(h, user)
    [amount] = [item for item in listed if item["type"] == "card_transfer"]
    assert (amount["direction"], amount["amount"]["amount"]) == ("out", "600.00")
    assert (amount["counterparty"], amount["status"]) == (named, "succeeded")
    [fee] = [item for item in listed if item["type"] == "fee" and item["counterparty"] == named]
    assert fee["amount"]["amount"] == "0.50"
    [withdrawal] = [item for item in listed if item["type"] == "withdrawal"]
    assert withdrawal["counterparty"] != named
    assert LI_NA.number not in str(listed)

    # The type filter: card transfers apart from withdrawals to the own card.
    assert [item["id"] for item in await items(h, user, "?type=card_transfer")] == [amount["id"]]
    assert [item["id"] for item in await items(h, user, "?type=withdrawal")] == [withdrawal["id"]]
    assert fee["id"] in [item["id"] for item in await items(h, user, "?type=fee")]

    for entry in (amount, fee):
        one = await h.client.get(f"/v1/me/transactions/{entry['id']}", headers=h.auth(user))
        assert one.status_code == 200, one.text
        assert (one.json()["type"], one.json()["counterparty"]) == (entry["type"], named)
        assert one.json()["details"] == details
        assert_problem(
            await h.client.get(f"/v1/me/transactions/{entry['id']}", headers=h.auth(stranger)),
            404,
            "not_found",
        )
    assert_problem(
        await h.client.get("/v1/me/transactions?type=card_transfer"), 401, "unauthorized"
    )

    month = h.clock.now().strftime("%Y-%m")
    statement = await h.client.get(f"/v1/me/statements/{month}?format=csv", headers=h.auth(user))
    assert statement.status_code == 200, statement.text
    rows = list(csv.reader(io.StringIO(statement.content.decode("utf-8-sig"))))
    [line] = [row for row in rows if len(row) == 8 and row[2] == "转账到银行卡 card_transfer"]
    assert (line[1], line[4], line[6]) == (amount["id"], "-600.00", named)
    [fee_line] = [row for row in rows if len(row) == 8 and row[1] == fee["id"]]
    assert (fee_line[2], fee_line[4], fee_line[6]) == ("手续费 fee", "-0.50", named)

    spending = await month_spending(h.services, user.id)
    shares = dict(spending.out_by_type)
    assert shares["card_transfer"].minor == 600_00
    assert shares["withdrawal"].minor == 10_00


async def test_a_scheduled_card_transfer_shows_pending_under_its_own_type(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, _ = await h.customer("+8613900000043", ICBC, "1000.00")
    sent = await h.client.post(
        "/v1/card-transfers",
        json={
            "card_number": LI_NA.number,
            "payee_name": LI_NA.holder_name,
            "amount": "20.00",
            "payment_password": PIN,
            "arrival": "2h",
        },
        headers=h.auth(user, **{"Idempotency-Key": "history-ct-2h"}),
    )
    assert sent.json()["card_transfer"]["status"] == "scheduled"
    [held] = await items(h, user, "?type=card_transfer")
    assert (held["status"], held["balance_after"]) == ("pending", None)
    assert held["counterparty"] == f"{LI_NA.bank_name} ****{LI_NA.number[-4:]} 李*"
    assert await items(h, user, "?type=withdrawal") == []
