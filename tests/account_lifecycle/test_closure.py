"""Closing an account: every blocker named, the one-unit closure, sign-in refused, the
number free for a new account, and the erasure after the retention period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from ewallet.identity.closure.service import erase_due_accounts
from ewallet.kit.ids import new_id
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.ledger.verify import verify_ledger
from ewallet.models.identity import CodePurpose
from ewallet.models.tables import cards, closed_accounts, ledger_postings, topups
from tests.fixtures.accounts import (
    LOGIN_PASSWORD,
    PIN,
    Harness,
    TestUser,
    assert_problem,
    outbox,
    sessions,
    users,
)
from tests.fixtures.limits import fund

CLOSURE = "/v1/me/closure"


async def close(harness: Harness, user: TestUser, *, pin: str = PIN) -> Any:
    code = await harness.sms_code(user.phone, CodePurpose.ACCOUNT_CLOSURE)
    body = {"payment_password": pin, "verification_code": code}
    return await harness.client.post(CLOSURE, json=body, headers=harness.auth(user))


async def add_card(harness: Harness, user: TestUser) -> None:
    now = harness.clock.now()
    async with harness.engine.begin() as conn:
        await conn.execute(
            insert(cards).values(
                id=new_id("crd"),
                user_id=user.id,
                status="active",
                bank_code="ICBC",
                bank_name="工商银行",
                card_type="debit",
                bin="621226",
                last_four="1234",
                fingerprint="f" * 64,
                holder_name_masked="*三",
                bank_phone_masked="138****5678",
                binding_request_id=new_id("bnd"),
                created_at=now,
                verified_at=now,
            )
        )


async def add_pending_topup(harness: Harness, user: TestUser) -> None:
    now = harness.clock.now()
    async with harness.engine.begin() as conn:
        await conn.execute(
            insert(topups).values(
                id=new_id("top"),
                user_id=user.id,
                method="alipay",
                amount=100,
                currency="CNY",
                status="awaiting_payment",
                created_at=now,
                updated_at=now,
            )
        )


async def hold_money(harness: Harness, user: TestUser) -> None:
    ledger = Ledger(harness.engine, clock=harness.clock)
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
    await ledger.create_hold(
        key=f"hold-{user.id}",
        debit_account_id=wallet.id,
        credit_account_id=bank.id,
        amount=Money(500),
        kind=TransactionKind.WITHDRAWAL,
    )


async def test_every_blocker_is_named_and_nothing_changes(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    await fund(harness, user, "20.00")
    await hold_money(harness, user)
    await add_card(harness, user)
    await add_pending_topup(harness, user)
    preview = await harness.client.get(CLOSURE, headers=harness.auth(user))
    assert preview.json() == {
        "may_close": False,
        "blockers": ["balance", "held_balance", "cards", "pending_topups"],
    }
    before = await harness.snapshot(user)
    body = assert_problem(await close(harness, user), 409, "closure_blocked")
    assert body["blockers"] == ["balance", "held_balance", "cards", "pending_topups"]
    after = await harness.snapshot(user)
    # The code row the test issued is no side effect of the refusal; nothing else moved.
    assert after == before
    assert (await harness.row(user)).payment_failures == 0  # the PIN was not even tried
    assert await harness.count(closed_accounts) == 0


@pytest.mark.parametrize("blocker", ["balance", "cards", "pending_topups"])
async def test_each_blocker_alone_refuses(harness: Harness, blocker: str) -> None:
    user = await harness.user(pin=PIN)
    if blocker == "balance":
        await fund(harness, user, "0.01")
    elif blocker == "cards":
        await add_card(harness, user)
    else:
        await add_pending_topup(harness, user)
    body = assert_problem(await close(harness, user), 409, "closure_blocked")
    assert body["blockers"] == [blocker]
    assert (await harness.row(user)).status == "active"


async def test_closure_ends_everything_and_frees_the_number(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    other_session = await harness.new_session(user.id)
    other_token = harness.token(user, session_id=other_session)
    # Money came and went: the wallet is at zero, and its history stays.
    await fund(harness, user, "5.00")
    ledger = Ledger(harness.engine, clock=harness.clock)
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
    await ledger.transfer(
        key="out",
        debit_account_id=wallet.id,
        credit_account_id=bank.id,
        amount=Money(500),
        kind=TransactionKind.WITHDRAWAL,
    )
    response = await close(harness, user)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "closed"
    assert body["closed_at"] == "2026-03-02T01:00:00Z"
    assert body["personal_data_erased_after"].startswith("2031-03-02")
    row = await harness.row(user)
    assert row.status == "closed"
    assert row.phone.startswith("#")
    assert len(row.phone) == 20
    # Every session (API token, web cookie: the same rows) fails at once.
    async with harness.engine.connect() as conn:
        reasons = {
            r.revoked_reason
            for r in await conn.execute(
                select(sessions.c.revoked_reason).where(sessions.c.user_id == user.id)
            )
        }
        sms = [
            r.payload
            for r in await conn.execute(
                select(outbox.c.payload).where(outbox.c.topic == "sms.send")
            )
        ]
    assert reasons == {"account_closed"}
    for token in (harness.token(user), other_token):
        me = await harness.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert_problem(me, 401, "unauthorized")
    # The SMS went to the real number; audited; the ledger still verifies.
    closed_sms = [p for p in sms if p.get("kind") == "account_closed"]
    assert [p["to"] for p in closed_sms] == [user.phone]
    assert "account.closed" in await harness.actions()
    assert (await verify_ledger(harness.engine)).clean
    # Sign-in answers as for a number without an account.
    signin = await harness.client.post(
        "/v1/sessions", json={"phone": user.phone, "login_password": LOGIN_PASSWORD}
    )
    assert_problem(signin, 401, "invalid_credentials")
    # The number registers a NEW account.
    code = await harness.sms_code(user.phone, CodePurpose.REGISTER)
    created = await harness.client.post(
        "/v1/users",
        json={
            "phone": user.phone,
            "verification_code": code,
            "login_password": "a new long secret",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["user"]["id"] != user.id
    # Closing twice: the closed account has no session to ask with.
    assert_problem(await close(harness, user), 401, "unauthorized")


async def test_a_wrong_pin_or_code_closes_nothing(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    assert_problem(await close(harness, user, pin="000001"), 403, "payment_password_invalid")
    code = await harness.sms_code(user.phone, CodePurpose.ACCOUNT_CLOSURE)
    wrong = "000000" if code != "000000" else "111111"
    response = await harness.client.post(
        CLOSURE,
        json={"payment_password": PIN, "verification_code": wrong},
        headers=harness.auth(user),
    )
    assert_problem(response, 400, "verification_code_invalid")
    row = await harness.row(user)
    assert (row.status, row.phone) == ("active", user.phone)
    assert await harness.count(closed_accounts) == 0


async def test_erasure_waits_for_the_end_of_retention(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    await fund(harness, user, "1.00")
    ledger = Ledger(harness.engine, clock=harness.clock)
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
    await ledger.transfer(
        key="out",
        debit_account_id=wallet.id,
        credit_account_id=bank.id,
        amount=Money(100),
        kind=TransactionKind.WITHDRAWAL,
    )
    async with harness.engine.begin() as conn:
        await conn.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(nickname="小明", real_name_masked="*明", id_number_masked="****1234")
        )
    assert (await close(harness, user)).status_code == 200
    postings = await harness.count(ledger_postings)
    retention = timedelta(days=harness.settings.closed_account_retention_days)
    harness.clock.advance(retention - timedelta(seconds=1))
    assert await erase_due_accounts(harness.services) == 0
    assert (await harness.row(user)).nickname == "小明"
    harness.clock.advance(timedelta(seconds=1))
    assert await erase_due_accounts(harness.services) == 1
    assert await erase_due_accounts(harness.services) == 0  # once only
    row = await harness.row(user)
    assert (row.nickname, row.real_name_masked, row.id_number_masked) == (None, None, None)
    async with harness.engine.connect() as conn:
        tomb = (await conn.execute(select(closed_accounts))).one()
    assert tomb.phone_digest is None
    assert tomb.erased_at == harness.clock.now()
    # The books keep every row and still balance.
    assert await harness.count(ledger_postings) == postings
    assert (await verify_ledger(harness.engine)).clean
    assert "account.personal_data_erased" in await harness.actions()
