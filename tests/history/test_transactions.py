"""GET /v1/me/transactions(/{id}): the ledger postings of the caller's wallet, described."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, Leg, PostEntry, Side, TransactionKind, chart
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.transfers import fund, set_tier, transfer

ALICE, BOB = "+8613800000001", "+8613900000002"


async def people(harness: Harness) -> tuple[TestUser, TestUser]:
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    return alice, bob


async def history(harness: Harness, user: TestUser, query: str = "") -> dict[str, Any]:
    response = await harness.client.get(f"/v1/me/transactions{query}", headers=harness.auth(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_items_follow_the_ledger_with_counterparties_and_pending_holds(
    harness: Harness, clock: FrozenClock
) -> None:
    alice, bob = await people(harness)
    await fund(harness, alice, "500.00")
    clock.advance(timedelta(minutes=1))
    assert (await transfer(harness, alice, BOB, "120.00", memo="房租")).status_code == 201
    clock.advance(timedelta(minutes=1))
    ledger = Ledger(harness.engine, clock=clock)
    wallet = await chart.open_account(ledger, chart.wallet(alice.id))
    bank = await chart.open_account(ledger, chart.bank_settlement("ICBC"))
    hold = await ledger.create_hold(
        key="wd-pending",
        debit_account_id=wallet.id,
        credit_account_id=bank.id,
        amount=Money.parse("30.00"),
        kind=TransactionKind.WITHDRAWAL,
    )
    body = await history(harness, alice)
    assert body["next_cursor"] is None
    items = body["items"]
    assert [(i["type"], i["direction"], i["status"]) for i in items] == [
        ("withdrawal", "out", "pending"),
        ("transfer", "out", "succeeded"),
        ("topup", "in", "succeeded"),
    ]
    pending, sent, topup = items
    assert pending["id"] == hold.id
    assert pending["balance_after"] is None
    assert sent["amount"] == {"amount": "120.00", "currency": "CNY"}
    assert sent["balance_after"] == {"amount": "380.00", "currency": "CNY"}
    assert sent["counterparty"] == "张*伟 (139****0002)"
    assert topup["balance_after"]["amount"] == "500.00"
    # The payee sees the same transfer coming in, from a masked sender.
    (received,) = (await history(harness, bob))["items"]
    assert (received["direction"], received["counterparty"]) == ("in", "*丽 (138****0001)")
    assert received["balance_after"]["amount"] == "120.00"
    detail = await harness.client.get(
        f"/v1/me/transactions/{sent['id']}", headers=harness.auth(alice)
    )
    assert detail.status_code == 200
    assert detail.json()["details"]["memo"] == "房租"
    assert detail.json()["details"]["transfer_id"].startswith("trf_")
    held = await harness.client.get(f"/v1/me/transactions/{hold.id}", headers=harness.auth(alice))
    assert held.json()["status"] == "pending"


async def test_another_users_entry_is_not_found(harness: Harness) -> None:
    alice, bob = await people(harness)
    await fund(harness, alice, "10.00")
    (entry,) = (await history(harness, alice))["items"]
    stolen = await harness.client.get(
        f"/v1/me/transactions/{entry['id']}", headers=harness.auth(bob)
    )
    assert_problem(stolen, 404, "not_found")
    assert "10.00" not in stolen.text
    for path in ("/v1/me/transactions", f"/v1/me/transactions/{entry['id']}"):
        assert_problem(await harness.client.get(path), 401, "unauthorized")


async def test_type_and_date_filters(harness: Harness, clock: FrozenClock) -> None:
    alice, _ = await people(harness)
    await fund(harness, alice, "100.00", key="day-1")  # 2026-03-02 09:00 in Shanghai
    clock.advance(timedelta(days=1))
    await fund(harness, alice, "50.00", key="day-2")
    await transfer(harness, alice, BOB, "5.00")
    assert [i["type"] for i in (await history(harness, alice, "?type=transfer"))["items"]] == [
        "transfer"
    ]
    one_day = await history(harness, alice, "?from=2026-03-03&to=2026-03-03")
    assert [i["amount"]["amount"] for i in one_day["items"]] == ["5.00", "50.00"]
    first_day = await history(harness, alice, "?to=2026-03-02")
    assert [i["amount"]["amount"] for i in first_day["items"]] == ["100.00"]
    exact = await history(harness, alice, "?from=2026-03-02T01:00:00Z&to=2026-03-02T01:00:01Z")
    assert len(exact["items"]) == 1
    assert (await history(harness, alice, "?type=bill"))["items"] == []
    bad = await harness.client.get(
        "/v1/me/transactions?from=yesterday", headers=harness.auth(alice)
    )
    assert_problem(bad, 422, "validation_error")
    backwards = await harness.client.get(
        "/v1/me/transactions?from=2026-03-05&to=2026-03-01", headers=harness.auth(alice)
    )
    assert_problem(backwards, 422, "validation_error")


async def test_cursor_pages_never_repeat_or_skip(harness: Harness, clock: FrozenClock) -> None:
    alice, _ = await people(harness)
    for n in range(5):
        await fund(harness, alice, f"{n + 1}.00", key=f"page-{n}")
        clock.advance(timedelta(seconds=1))
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        body = await history(harness, alice, f"?limit=2{cursor}")
        seen += [item["amount"]["amount"] for item in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert seen == ["5.00", "4.00", "3.00", "2.00", "1.00"]
    assert pages == 3
    broken = await harness.client.get("/v1/me/transactions?cursor=%%%", headers=harness.auth(alice))
    assert_problem(broken, 422, "validation_error")
    too_many = await harness.client.get(
        "/v1/me/transactions?limit=500", headers=harness.auth(alice)
    )
    assert_problem(too_many, 422, "validation_error")


async def test_unknown_kinds_show_as_themselves_and_reversals_are_marked(
    harness: Harness,
) -> None:
    alice, _ = await people(harness)
    await fund(harness, alice, "20.00")
    ledger = Ledger(harness.engine, clock=harness.clock)
    wallet = await chart.open_account(ledger, chart.wallet(alice.id))
    promo = await chart.open_account(ledger, chart.fee_revenue())
    cashback = await ledger.post_entry(
        PostEntry(
            key="cashback-1",
            kind="cashback",  # a kind no feature has yet
            legs=(
                Leg(promo.id, Side.DEBIT, Money.parse("1.50")),
                Leg(wallet.id, Side.CREDIT, Money.parse("1.50")),
            ),
            metadata={"campaign": "spring"},
        )
    )
    await ledger.reverse(key="undo-cashback", transaction_id=cashback.id)
    items = (await history(harness, alice))["items"]
    assert [(i["type"], i["direction"], i["status"]) for i in items] == [
        ("reversal", "out", "succeeded"),
        ("cashback", "in", "reversed"),
        ("topup", "in", "succeeded"),
    ]
    assert items[0]["balance_after"]["amount"] == "20.00"
    assert all(item["counterparty"] is None for item in items)
