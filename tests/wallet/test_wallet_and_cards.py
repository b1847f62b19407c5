"""``GET /v1/me/wallet``, ``GET /v1/banks`` and ``POST /v1/cards/lookup`` over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from ewallet.kit.bank_cards import luhn_valid
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.models.tables import users
from tests.fixtures.accounts import Harness, TestUser


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


ICBC_DEBIT = with_check_digit("620058" + "3" * 12)


async def fund(harness: Harness, user: TestUser, amount: str) -> Ledger:
    ledger = Ledger(harness.engine, clock=harness.clock)
    bank = await chart.open_account(ledger, chart.bank_settlement("ICBC"))
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    await ledger.transfer(
        key=f"fund-{user.id}-{amount}",
        debit_account_id=bank.id,
        credit_account_id=wallet.id,
        amount=Money.parse(amount),
        kind=TransactionKind.TOPUP,
    )
    return ledger


async def test_new_wallet_is_empty_class_one(harness: Harness) -> None:
    user = await harness.user()
    response = await harness.client.get("/v1/me/wallet", headers=harness.auth(user))
    assert response.status_code == 200, response.text
    body = response.json()
    # The daily caps by name came with the limits feature (tests/limits checks them).
    daily, by_channel = (
        body["limits"].pop("daily"),
        body["limits"].pop("per_transaction_by_channel"),
    )
    assert set(daily) >= {"daily_pin", "daily_no_pin", "daily_static_qr"}
    assert by_channel["transfer"] == {"amount": "50000.00", "currency": "CNY"}
    assert body == {
        "balances": [{"currency": "CNY", "available": "0.00", "held": "0.00", "total": "0.00"}],
        "tier": 1,
        "status": "active",
        "limits": {
            "period": "lifetime",
            "per_transaction": {"amount": "1000.00", "currency": "CNY"},
            "daily_remaining": {"amount": "1000.00", "currency": "CNY"},
            "annual_remaining": {"amount": "1000.00", "currency": "CNY"},
            "annual_resets_at": None,
        },
    }


async def test_balances_holds_and_allowance_follow_the_ledger(harness: Harness) -> None:
    user = await harness.user()
    ledger = await fund(harness, user, "500.00")
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    merchant = await chart.open_account(ledger, chart.merchant("m1"))
    bank = await chart.open_account(ledger, chart.bank_settlement("ICBC"))
    await ledger.transfer(
        key="pay-1",
        debit_account_id=wallet.id,
        credit_account_id=merchant.id,
        amount=Money.parse("120.50"),
        kind=TransactionKind.PAYMENT,
    )
    await ledger.create_hold(
        key="wd-1",
        debit_account_id=wallet.id,
        credit_account_id=bank.id,
        amount=Money.parse("100.00"),
        kind=TransactionKind.WITHDRAWAL,
    )
    body = (await harness.client.get("/v1/me/wallet", headers=harness.auth(user))).json()
    assert body["balances"] == [
        {"currency": "CNY", "available": "279.50", "held": "100.00", "total": "379.50"}
    ]
    # Only payments from the balance count against the class allowance, not withdrawals.
    assert body["limits"]["annual_remaining"] == {"amount": "879.50", "currency": "CNY"}


async def test_class_two_allowance_is_per_china_year(harness: Harness, clock: FrozenClock) -> None:
    user = await harness.user()
    async with harness.engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == user.id).values(tier=2))
    ledger = await fund(harness, user, "900.00")
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    merchant = await chart.open_account(ledger, chart.merchant("m1"))
    await ledger.transfer(
        key="pay-old",
        debit_account_id=wallet.id,
        credit_account_id=merchant.id,
        amount=Money.parse("300.00"),
        kind=TransactionKind.PAYMENT,
    )
    body = (await harness.client.get("/v1/me/wallet", headers=harness.auth(user))).json()
    assert body["limits"]["period"] == "year"
    assert body["limits"]["annual_remaining"]["amount"] == "99700.00"
    clock.advance(timedelta(days=366))  # into the next year in China time
    fresh = TestUser(user.id, user.phone, await harness.new_session(user.id))
    body = (await harness.client.get("/v1/me/wallet", headers=harness.auth(fresh))).json()
    assert body["limits"]["annual_remaining"]["amount"] == "100000.00"


async def test_wallet_is_the_callers_own(harness: Harness) -> None:
    alice = await harness.user(phone="+8613800000001")
    bob = await harness.user(phone="+8613800000002")
    await fund(harness, alice, "50.00")
    body = (await harness.client.get("/v1/me/wallet", headers=harness.auth(bob))).json()
    assert body["balances"][0]["total"] == "0.00"


async def test_wallet_and_cards_need_a_token(harness: Harness) -> None:
    for method, path in (
        ("GET", "/v1/me/wallet"),
        ("GET", "/v1/banks"),
        ("POST", "/v1/cards/lookup"),
    ):
        response = await harness.client.request(method, path, json={"card_number": ICBC_DEBIT})
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"


async def test_banks_list(harness: Harness) -> None:
    user = await harness.user()
    items = (await harness.client.get("/v1/banks", headers=harness.auth(user))).json()["items"]
    assert {"code": "ICBC", "name": "中国工商银行"} in items
    assert len(items) == 260


async def test_card_lookup(harness: Harness) -> None:
    user = await harness.user()
    spaced = " ".join(ICBC_DEBIT[i : i + 4] for i in range(0, len(ICBC_DEBIT), 4))
    response = await harness.client.post(
        "/v1/cards/lookup", json={"card_number": spaced}, headers=harness.auth(user)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "bank": {"code": "ICBC", "name": "中国工商银行"},
        "card_type": "debit",
        "bin": "620058",
        "last_four": ICBC_DEBIT[-4:],
        "length": 19,
        "supported_for_funding": True,
    }
    assert ICBC_DEBIT not in response.text


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("9999000000000000", "unknown_bin"),
        (ICBC_DEBIT[:-1] + str((int(ICBC_DEBIT[-1]) + 1) % 10), "luhn"),
        ("6200 58ab", "not_a_number"),
    ],
)
async def test_card_lookup_refusals(harness: Harness, number: str, reason: str) -> None:
    user = await harness.user()
    response = await harness.client.post(
        "/v1/cards/lookup", json={"card_number": number}, headers=harness.auth(user)
    )
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["reason"]) == ("card_invalid", reason)
