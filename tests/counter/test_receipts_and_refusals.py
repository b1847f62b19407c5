"""Receipt numbers, refused deposits (nothing changes) and who may call what."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from ewallet.ledger.verify import verify_ledger
from tests.counter.conftest import Counter, Staffer
from tests.fixtures.accounts import assert_problem
from tests.fixtures.staff import staff_token

PHONE = "+8613800002222"


async def test_the_same_receipt_again_returns_the_deposit(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    first = await h.deposit(teller, PHONE, "300.00", "R-1001", key="k-1")
    assert first.status_code == 201, first.text
    # The same request and key: the stored answer, replayed.
    replay = await h.deposit(teller, PHONE, "300.00", "R-1001", key="k-1")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    # The same slip under a new key, typed another way by another teller: the same deposit.
    other = await h.staffer("teller")
    again = await h.deposit(other, "13800002222", "300.0", "R-1001")
    assert again.status_code == 200, again.text
    assert again.json()["deposit"]["id"] == first.json()["deposit"]["id"]
    assert await h.balance(user) == 300_00
    assert await h.kinds(user) == ["counter_deposit_credited"]
    # The same number at another branch is another receipt.
    elsewhere = await h.deposit(teller, PHONE, "300.00", "R-1001", branch="BJ02")
    assert elsewhere.status_code == 201, elsewhere.text
    assert await h.balance(user) == 600_00
    assert (await verify_ledger(h.engine)).clean


async def test_concurrent_submissions_of_one_receipt_record_one_deposit(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    tellers = [await h.staffer("teller") for _ in range(5)]
    answers = await asyncio.gather(
        *(h.deposit(teller, PHONE, "10.00", "R-1002") for teller in tellers)
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["deposit"]["id"] for a in answers}) == 1
    assert await h.balance(user) == 10_00


@pytest.mark.parametrize(("phone", "amount"), [("+8613800002223", "300.00"), (PHONE, "300.01")])
async def test_a_receipt_with_other_content_is_refused(
    counter: Counter, phone: str, amount: str
) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    await h.user(phone="+8613800002223")
    teller = await h.staffer("teller")
    first = await h.deposit(teller, PHONE, "300.00", "R-1003")
    assert first.status_code == 201, first.text
    before = await h.world()
    refused = await h.deposit(teller, phone, amount, "R-1003")
    body = assert_problem(refused, 409, "receipt_already_used")
    assert body["deposit_id"] == first.json()["deposit"]["id"]
    assert await h.world() == before
    assert await h.balance(user) == 300_00


@pytest.mark.parametrize(
    ("phone", "amount", "extra", "status", "code"),
    [
        ("+8613899998888", "100.00", {}, 404, "not_found"),  # nobody has this number
        (PHONE, "0", {}, 422, "invalid_amount"),
        (PHONE, "0.001", {}, 422, "invalid_amount"),
        (PHONE, "-5.00", {}, 422, "invalid_amount"),
        (PHONE, 100, {}, 422, "invalid_amount"),  # a JSON number, not a string
        (PHONE, "100.00", {"currency": "USD"}, 422, "currency_not_supported"),
        ("12345", "100.00", {}, 422, "invalid_phone"),
        (PHONE, "100.00", {"branch": "no:colons"}, 422, "validation_error"),
    ],
)
async def test_refused_deposits_change_nothing(
    counter: Counter, phone: str, amount: object, extra: dict[str, str], status: int, code: str
) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    before = await h.world()
    assert_problem(await h.deposit(teller, phone, amount, "R-1004", **extra), status, code)
    assert await h.world() == before
    assert await h.balance(user) == 0


async def test_a_frozen_account_takes_no_deposit(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    await h.freeze(user)
    teller = await h.staffer("teller")
    before = await h.world()
    for amount in ("100.00", "60000.00"):
        refused = await h.deposit(teller, PHONE, amount, f"R-frozen-{amount[:-3]}")
        assert_problem(refused, 423, "account_frozen")
    assert await h.world() == before


async def test_customers_and_other_roles_are_refused(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    deposit_id = (await h.deposit(teller, PHONE, "66000.00", "R-1005")).json()["deposit"]["id"]
    agent = await h.staffer("support_agent")
    admin = await h.staffer("admin")
    before = await h.world()
    customer = h.auth(user, **{"Idempotency-Key": "c-1"})
    body = {"phone": PHONE, "amount": "1.00", "receipt_no": "R-1006"}
    routes = [
        ("POST", "/v1/staff/counter-deposits", body),
        ("POST", f"/v1/staff/counter-deposits/{deposit_id}/approve", None),
        ("POST", f"/v1/staff/counter-deposits/{deposit_id}/reject", {"reason": "x"}),
        ("GET", "/v1/staff/counter-deposits", None),
        ("GET", f"/v1/staff/counter-deposits/{deposit_id}", None),
        ("GET", "/v1/staff/large-cash-records", None),
    ]
    for method, path, json in routes:
        for headers in (customer, {"Idempotency-Key": "c-2"}):
            response = await h.client.request(method, path, json=json, headers=headers)
            assert_problem(response, 401, "unauthorized")
    for method, path, json in routes:
        response = await h.client.request(method, path, json=json, headers=agent.headers())
        assert_problem(response, 403, "forbidden")
    assert_problem(await h.deposit(admin, PHONE, "1.00", "R-1007"), 403, "forbidden")
    assert await h.world() == before


async def test_lists_mask_the_phone_for_non_cash_roles(counter: Counter) -> None:
    h = counter
    await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    created = []
    for n in range(5):
        amount = "70000.00" if n % 2 else "10.00"
        response = await h.deposit(teller, PHONE, amount, f"R-20{n}")
        created.append(response.json()["deposit"]["id"])
        h.clock.advance(timedelta(seconds=1))

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await h.read(teller, "/v1/staff/counter-deposits", **params)).json()
        seen += [item["id"] for item in page["items"]]
        assert all(item["phone"] == PHONE for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created[::-1]  # newest first, each once

    risk = await h.staffer("risk_officer")
    waiting = await h.read(risk, "/v1/staff/counter-deposits", status="awaiting_approval")
    items = waiting.json()["items"]
    assert [item["id"] for item in items] == [created[3], created[1]]
    assert {item["phone"] for item in items} == {"138****2222"}
    one = await h.read(risk, f"/v1/staff/counter-deposits/{created[0]}")
    assert one.json()["deposit"]["phone"] == "138****2222"
    missing = await h.read(risk, "/v1/staff/counter-deposits/cdp_nope")
    assert_problem(missing, 404, "not_found")
    bad = await h.read(risk, "/v1/staff/counter-deposits", cursor="garbage!")
    assert_problem(bad, 422, "validation_error")


async def test_the_large_cash_report_covers_beijing_days(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    # The clock starts at 2026-03-02 01:00 UTC, 09:00 in Beijing.
    first = (await h.deposit(teller, PHONE, "50000.00", "R-3001")).json()["deposit"]["id"]
    await h.deposit(teller, PHONE, "49999.99", "R-3002")  # not large: not reported
    h.clock.advance(timedelta(hours=16))  # 2026-03-03 01:00 Beijing time
    teller = await h.staffer("teller")  # a new shift (the access tokens of the first expired)
    supervisor = await h.staffer("teller_supervisor")
    second = (await h.deposit(teller, PHONE, "75000.00", "R-3003")).json()["deposit"]["id"]
    assert (await h.approve(supervisor, first)).status_code == 200

    report = await h.read(supervisor, "/v1/staff/large-cash-records", **{"from": "2026-03-02"})
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["from"], body["to"]) == ("2026-03-02", "2026-03-03")
    items = body["items"]
    assert [item["deposit_id"] for item in items] == [first, second]
    assert items[0]["deposit_status"] == "completed"
    assert items[0]["approved_by"] == supervisor.id
    assert items[0]["phone_masked"] == "138****2222"
    assert items[0]["user_id"] == user.id
    assert items[1]["deposit_status"] == "awaiting_approval"
    assert items[1]["approved_by"] is None

    risk = await h.staffer("risk_officer")
    one_day = await h.read(
        risk, "/v1/staff/large-cash-records", **{"from": "2026-03-02", "to": "2026-03-02"}
    )
    assert [item["deposit_id"] for item in one_day.json()["items"]] == [first]
    backwards = await h.read(
        risk, "/v1/staff/large-cash-records", **{"from": "2026-03-03", "to": "2026-03-02"}
    )
    assert_problem(backwards, 422, "validation_error")
    too_long = await h.read(
        risk, "/v1/staff/large-cash-records", **{"from": "2024-01-01", "to": "2026-03-02"}
    )
    assert_problem(too_long, 422, "validation_error")
    teller_view = await h.read(teller, "/v1/staff/large-cash-records")
    assert_problem(teller_view, 403, "forbidden")


async def test_a_tellers_key_replays_across_their_tokens(counter: Counter) -> None:
    """Keys are scoped by staff member, not by token: a refreshed token replays too."""
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    first = await h.deposit(teller, PHONE, "120.00", "R-2001", key="k-9")
    assert first.status_code == 201, first.text
    token = await staff_token(h.engine, h.security, h.settings, h.clock, teller.id)
    refreshed = Staffer(teller.id, teller.role, token)
    assert refreshed.token != teller.token
    replay = await h.deposit(refreshed, PHONE, "120.00", "R-2001", key="k-9")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert await h.balance(user) == 120_00
