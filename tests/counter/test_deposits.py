"""Counter cash deposits through the app: credit at once, or wait for a second person."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import ledger_transactions as transactions
from tests.counter.conftest import Counter
from tests.fixtures.accounts import assert_problem
from tests.fixtures.staff import audit_actions

PHONE = "+8613800001111"


async def ledger_entry(counter: Counter, deposit_id: str) -> Any:
    async with counter.engine.connect() as conn:
        query = select(transactions).where(
            transactions.c.idempotency_key == f"counter_deposit:{deposit_id}"
        )
        return (await conn.execute(query)).first()


async def test_a_small_deposit_is_credited_at_once(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    response = await h.deposit(teller, "138 0000 1111", "1200.50", "R-0001")
    assert response.status_code == 201, response.text
    deposit = response.json()["deposit"]
    assert deposit["status"] == "completed"
    assert deposit["amount"] == {"amount": "1200.50", "currency": "CNY"}
    assert deposit["branch"] == "HQ"
    assert deposit["phone"] == PHONE  # a teller sees the number they typed
    assert deposit["teller_id"] == teller.id
    assert deposit["decided_by"] is None

    assert await h.balance(user) == 1200_50
    assert await h.vault() == 1200_50  # the cash is in the branch's vault
    entry = await ledger_entry(h, deposit["id"])
    assert entry is not None
    assert entry.kind == "topup"
    assert entry.id == deposit["ledger_transaction_id"]
    assert await h.kinds(user) == ["counter_deposit_credited"]
    assert ("counter_deposit.created", teller.id, deposit["id"]) in await audit_actions(h.engine)
    assert await h.records(deposit["id"]) == []  # below the threshold: no large-cash record
    assert (await verify_ledger(h.engine)).clean


async def test_a_large_deposit_waits_then_a_second_supervisor_credits_it_once(
    counter: Counter,
) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    supervisor = await h.staffer("teller_supervisor")
    response = await h.deposit(teller, PHONE, "80000.00", "R-0002", branch="SH01")
    assert response.status_code == 201, response.text
    deposit = response.json()["deposit"]
    assert deposit["status"] == "awaiting_approval"
    assert deposit["ledger_transaction_id"] is None
    assert await h.balance(user) == 0
    assert await h.kinds(user) == []
    (record,) = await h.records(deposit["id"])
    assert record.user_id == user.id
    assert record.phone_masked == "138****1111"
    assert record.amount == 80000_00
    assert record.branch == "SH01"
    assert record.teller_id == teller.id
    assert record.approved_by is None

    approved = await h.approve(supervisor, deposit["id"])
    assert approved.status_code == 200, approved.text
    done = approved.json()["deposit"]
    assert done["status"] == "completed"
    assert done["decided_by"] == supervisor.id
    assert await h.balance(user) == 80000_00
    assert await h.vault("SH01") == 80000_00
    (record,) = await h.records(deposit["id"])
    assert record.approved_by == supervisor.id
    assert record.approved_at is not None
    assert await h.kinds(user) == ["counter_deposit_credited"]
    actions = await audit_actions(h.engine)
    assert ("counter_deposit.created", teller.id, deposit["id"]) in actions
    assert ("counter_deposit.approved", supervisor.id, deposit["id"]) in actions

    again = await h.approve(await h.staffer("teller_supervisor"), deposit["id"])
    assert_problem(again, 409, "deposit_not_awaiting_approval")
    assert await h.balance(user) == 80000_00
    assert (await verify_ledger(h.engine)).clean


async def test_the_threshold_is_inclusive(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    below = await h.deposit(teller, PHONE, "49999.99", "R-0003")
    assert below.status_code == 201, below.text
    assert below.json()["deposit"]["status"] == "completed"
    at = await h.deposit(teller, PHONE, "50000.00", "R-0004")
    assert at.status_code == 201, at.text
    assert at.json()["deposit"]["status"] == "awaiting_approval"
    assert len(await h.records(at.json()["deposit"]["id"])) == 1
    assert await h.balance(user) == 49999_99


async def test_nobody_approves_their_own_deposit(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    supervisor = await h.staffer("teller_supervisor")
    response = await h.deposit(supervisor, PHONE, "60000.00", "R-0005")
    deposit_id = response.json()["deposit"]["id"]
    before = await h.world()
    refused = await h.approve(supervisor, deposit_id)
    body = assert_problem(refused, 403, "forbidden")
    assert body["detail"] == "无权执行此操作"  # a Chinese reader gets no English sentence
    again = await h.client.post(
        f"/v1/staff/counter-deposits/{deposit_id}/approve",
        headers={**supervisor.headers(), "Accept-Language": "en"},
    )
    assert "second person" in assert_problem(again, 403, "forbidden")["detail"]
    assert await h.world() == before
    assert await h.balance(user) == 0
    status = (await h.read(supervisor, f"/v1/staff/counter-deposits/{deposit_id}")).json()
    assert status["deposit"]["status"] == "awaiting_approval"


async def test_tellers_and_admins_cannot_approve_or_reject(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    deposit_id = (await h.deposit(teller, PHONE, "70000.00", "R-0006")).json()["deposit"]["id"]
    others = [await h.staffer(role) for role in ("teller", "admin", "risk_officer")]
    before = await h.world()
    for other in others:
        assert_problem(await h.approve(other, deposit_id), 403, "forbidden")
        assert_problem(await h.reject(other, deposit_id, "no"), 403, "forbidden")
    assert await h.world() == before
    assert await h.balance(user) == 0


async def test_concurrent_approvals_credit_once(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    deposit_id = (await h.deposit(teller, PHONE, "100000.00", "R-0007")).json()["deposit"]["id"]
    supervisors = [await h.staffer("teller_supervisor") for _ in range(10)]
    answers = await asyncio.gather(*(h.approve(s, deposit_id) for s in supervisors))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * 9, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "deposit_not_awaiting_approval"
    assert await h.balance(user) == 100000_00
    assert await ledger_entry(h, deposit_id) is not None
    assert await h.kinds(user) == ["counter_deposit_credited"]
    actions = [a for a, _, subject in await audit_actions(h.engine) if subject == deposit_id]
    assert actions == ["counter_deposit.created", "counter_deposit.approved"]
    assert (await verify_ledger(h.engine)).clean


async def test_a_rejected_deposit_credits_nothing(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    supervisor = await h.staffer("teller_supervisor")
    deposit_id = (await h.deposit(teller, PHONE, "90000.00", "R-0008")).json()["deposit"]["id"]
    assert_problem(await h.reject(supervisor, deposit_id, ""), 422, "validation_error")
    rejected = await h.reject(supervisor, deposit_id, "banknotes failed the counterfeit check")
    assert rejected.status_code == 200, rejected.text
    deposit = rejected.json()["deposit"]
    assert deposit["status"] == "rejected"
    assert deposit["reject_reason"] == "banknotes failed the counterfeit check"
    assert deposit["decided_by"] == supervisor.id
    assert ("counter_deposit.rejected", supervisor.id, deposit_id) in await audit_actions(h.engine)
    second = await h.staffer("teller_supervisor")
    before = await h.world()
    late = await h.approve(second, deposit_id)
    assert_problem(late, 409, "deposit_not_awaiting_approval")
    assert_problem(
        await h.reject(supervisor, deposit_id, "twice"), 409, "deposit_not_awaiting_approval"
    )
    assert await h.world() == before
    assert await h.balance(user) == 0
    assert await ledger_entry(h, deposit_id) is None
    assert await h.kinds(user) == []
    (record,) = await h.records(deposit_id)
    assert record.approved_by is None
    assert (await verify_ledger(h.engine)).clean


async def test_a_freeze_before_approval_blocks_the_credit(counter: Counter) -> None:
    h = counter
    user = await h.user(phone=PHONE)
    teller = await h.staffer("teller")
    deposit_id = (await h.deposit(teller, PHONE, "55000.00", "R-0009")).json()["deposit"]["id"]
    await h.freeze(user)
    supervisor = await h.staffer("teller_supervisor")
    before = await h.world()
    refused = await h.approve(supervisor, deposit_id)
    assert_problem(refused, 423, "account_frozen")
    world = await h.world()
    # The wallet and vault accounts may now exist (opened before the unit); nothing else.
    assert {k: v for k, v in world.items() if k != "ledger_accounts"} == {
        k: v for k, v in before.items() if k != "ledger_accounts"
    }
    assert await h.balance(user) == 0
    status = (await h.read(teller, f"/v1/staff/counter-deposits/{deposit_id}")).json()
    assert status["deposit"]["status"] == "awaiting_approval"
