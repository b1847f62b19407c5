"""``POST /v1/topups`` and ``GET /v1/topups/{id}``: start a PSP top-up, pay it in the sandbox,
see the wallet credited exactly once; and every refusal leaves nothing behind."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from ewallet.ledger.verify import verify_ledger
from tests.fixtures.accounts import assert_problem, users
from tests.fixtures.funding import Funding


@pytest.mark.parametrize("method", ["alipay", "wechat_pay"])
async def test_psp_topup_is_credited_once(funding: Funding, method: str) -> None:
    user = await funding.user()
    response = await funding.start(user, method, "88.88")
    assert response.status_code == 201, response.text
    body = response.json()
    topup = body["topup"]
    assert topup["id"].startswith("top")
    assert (topup["method"], topup["status"], topup["completed_at"]) == (
        method,
        "awaiting_payment",
        None,
    )
    assert topup["amount"] == {"amount": "88.88", "currency": "CNY"}
    assert body["qr_code"]
    assert body["pay_url"]
    assert await funding.balance(user) == Decimal("0.00")

    await funding.pay(method, topup["id"])
    done = await funding.wait_status(user, topup["id"], "succeeded")
    assert done["completed_at"] is not None
    sandbox = funding.alipay if method == "alipay" else funding.wechat
    await sandbox.deliveries.wait_idle()
    assert [a.accepted for a in sandbox.deliveries.for_key(topup["id"])] == [True]
    assert await funding.balance(user) == Decimal("88.88")
    assert await funding.kinds(user) == ["topup_succeeded"]
    (row,) = await funding.topup_rows(user)
    assert row.ledger_transaction_id
    assert row.provider_reference
    assert (await verify_ledger(funding.engine)).clean


async def test_same_idempotency_key_replays(funding: Funding) -> None:
    user = await funding.user()
    first = await funding.start(user, "alipay", "10.00", key="same")
    again = await funding.start(user, "alipay", "10.00", key="same")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(await funding.topup_rows(user)) == 1


async def test_idempotency_key_is_required(funding: Funding) -> None:
    user = await funding.user()
    response = await funding.client.post(
        "/v1/topups", json={"method": "alipay", "amount": "1.00"}, headers=funding.auth(user)
    )
    assert_problem(response, 400, "idempotency_key_required")
    assert await funding.topup_rows(user) == []


@pytest.mark.parametrize("amount", ["0", "0.00", "-1.00", "1.001", "abc", "1e3", "", 12, None])
async def test_invalid_amounts_create_nothing(funding: Funding, amount: object) -> None:
    user = await funding.user()
    response = await funding.client.post(
        "/v1/topups",
        json={"method": "wechat_pay", "amount": amount},
        headers=funding.auth(user, **{"Idempotency-Key": "bad-amount"}),
    )
    assert_problem(response, 422, "invalid_amount")
    assert await funding.topup_rows(user) == []
    assert funding.wechat.orders == {}


async def test_frozen_account_cannot_top_up(funding: Funding) -> None:
    user = await funding.user()
    async with funding.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user.id).values(status="frozen", frozen_by="self")
        )
    response = await funding.start(user, "alipay")
    assert_problem(response, 423, "account_frozen")
    assert await funding.topup_rows(user) == []
    assert funding.alipay.trades == {}


async def test_only_the_owner_sees_a_topup(funding: Funding) -> None:
    owner = await funding.user()
    other = await funding.user(phone="+8613900000001")
    topup_id = (await funding.start(owner, "alipay")).json()["topup"]["id"]
    mine = await funding.client.get(f"/v1/topups/{topup_id}", headers=funding.auth(owner))
    assert mine.status_code == 200
    theirs = await funding.client.get(f"/v1/topups/{topup_id}", headers=funding.auth(other))
    assert_problem(theirs, 404, "not_found")
    missing = await funding.client.get("/v1/topups/top_nope", headers=funding.auth(owner))
    assert_problem(missing, 404, "not_found")


async def test_no_token_is_401(funding: Funding) -> None:
    response = await funding.client.post(
        "/v1/topups",
        json={"method": "alipay", "amount": "1.00"},
        headers={"Idempotency-Key": "anon"},
    )
    assert_problem(response, 401, "unauthorized")
    assert_problem(await funding.client.get("/v1/topups/top_x"), 401, "unauthorized")
