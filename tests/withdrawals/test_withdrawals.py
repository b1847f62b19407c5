"""Withdrawals to an own card through the app and the sandbox bank (both databases)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update

from ewallet.funding.withdrawals.jobs import settle_pending_withdrawals
from ewallet.ledger.verify import verify_ledger
from tests.fixtures.accounts import assert_problem
from tests.fixtures.withdrawals import CCB, ICBC, Withdrawing, withdrawals

FEES = "fee_revenue:CNY"


async def test_free_quota_then_fee_boundaries(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000001", ICBC, "1000.00")
    first = await h.preview(user, card_id, "60.00")
    assert first.status_code == 200, first.text
    assert first.json()["fee"]["amount"] == "0.00"
    assert first.json()["free_quota_remaining"]["amount"] == "100.00"
    done = await h.withdraw(user, card_id, "60.00")
    assert done.status_code == 201, done.text
    assert done.json()["withdrawal"]["fee"]["amount"] == "0.00"

    at_quota = (await h.preview(user, card_id, "40.00")).json()
    assert at_quota["fee"]["amount"] == "0.00"
    assert at_quota["free_quota_remaining"]["amount"] == "40.00"
    one_over = (await h.preview(user, card_id, "40.01")).json()
    assert one_over["fee"]["amount"] == "0.10"  # the minimum
    assert one_over["total"]["amount"] == "40.11"
    big = (await h.preview(user, card_id, "540.00")).json()
    assert big["fee"]["amount"] == "0.50"  # 0.1 % of the ¥500 above the quota


async def test_preview_has_no_side_effects_and_equals_the_charged_fee(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000002", ICBC, "1000.00")
    preview = (await h.preview(user, card_id, "300.00")).json()
    assert await h.rows(user) == []
    assert preview["fee"]["amount"] == "0.20"
    response = await h.withdraw(user, card_id, "300.00")
    assert response.status_code == 201, response.text
    withdrawal = response.json()["withdrawal"]
    assert withdrawal["fee"] == preview["fee"]
    assert withdrawal["total"] == preview["total"]


async def test_success_posts_amount_and_fee(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000003", ICBC, "1000.00")
    fees_before = await h.posted(FEES)
    response = await h.withdraw(user, card_id, "600.00")
    assert response.status_code == 201, response.text
    withdrawal = response.json()["withdrawal"]
    assert withdrawal["status"] == "succeeded"
    assert withdrawal["fee"]["amount"] == "0.50"
    assert await h.balance(user) == Decimal("1000.00") - Decimal("600.50")
    assert await h.posted(FEES) - fees_before == 50
    assert await h.posted("bank_settlement:ICBC:CNY") == -600_00
    assert (await verify_ledger(h.engine)).clean
    assert "withdrawal_succeeded" in await h.kinds(user)
    again = await h.client.get(f"/v1/withdrawals/{withdrawal['id']}", headers=h.auth(user))
    assert again.status_code == 200
    assert again.json()["withdrawal"]["status"] == "succeeded"


async def test_decline_voids_the_holds(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000004", ICBC, "1000.00")
    response = await h.withdraw(user, card_id, "200.53")  # .53: the bank declines
    assert_problem(response, 402, "bank_declined")
    assert await h.balance(user) == Decimal("1000.00")
    (row,) = await h.rows(user)
    assert row.status == "failed"
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert wallet.available == 1000_00
    assert (await verify_ledger(h.engine)).clean
    # A failed withdrawal gives its share of the free quota back.
    quota = (await h.preview(user, card_id, "10.00")).json()["free_quota_remaining"]
    assert quota["amount"] == "100.00"


async def test_unknown_outcome_stays_pending_then_settles_once(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000005", ICBC, "1000.00")
    response = await h.withdraw(user, card_id, "300.52")  # .52: committed, then a 500
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["code"] == "operation_pending"
    assert body["withdrawal"]["status"] == "pending"
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert wallet.posted == 1000_00
    assert wallet.available == 1000_00 - 300_52 - 20  # amount and fee held
    for _ in range(2):  # settling again changes nothing
        await settle_pending_withdrawals(h.services)
    (row,) = await h.rows(user)
    assert row.status == "succeeded"
    assert row.failure_reason is None
    assert row.bank_reference is not None
    assert await h.balance(user) == Decimal("1000.00") - Decimal("300.72")
    assert (await verify_ledger(h.engine)).clean


async def test_timeout_never_arrived_is_voided_on_settlement(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000006", ICBC, "1000.00")
    response = await h.withdraw(user, card_id, "50.51")  # .51: the bank commits nothing
    assert response.status_code == 202, response.text
    early = await settle_pending_withdrawals(h.services)
    assert early.counts() == {"succeeded": 0, "failed": 0}  # it may still be on its way
    assert len(early.still_pending) == 1
    assert (await h.rows(user))[0].status == "pending"
    h.clock.advance(timedelta(minutes=31))
    late = await settle_pending_withdrawals(h.services)
    assert late.counts() == {"succeeded": 0, "failed": 1}
    (row,) = await h.rows(user)
    assert row.status == "failed"
    assert await h.balance(user) == Decimal("1000.00")
    wallet = await h.ledger.account_by_code(f"wallet:{user.id}:CNY")
    assert wallet is not None
    assert wallet.available == 1000_00


async def test_insufficient_balance_creates_nothing(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000007", ICBC, "200.00")
    response = await h.withdraw(user, card_id, "200.00")  # + ¥0.10 fee: one fee too many
    assert_problem(response, 402, "insufficient_balance")
    assert await h.rows(user) == []
    assert await h.balance(user) == Decimal("200.00")


async def test_wrong_pin_creates_nothing(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000008", ICBC, "200.00")
    response = await h.withdraw(user, card_id, "10.00", pin="000000")
    assert_problem(response, 403, "payment_password_invalid")
    assert await h.rows(user) == []


async def test_other_users_card_and_withdrawal_are_not_found(withdrawing: Withdrawing) -> None:
    h = withdrawing
    alice, alice_card = await h.customer("+8613900000009", ICBC, "200.00")
    bob, _ = await h.customer("+8613900000010", CCB, "200.00")
    assert_problem(await h.withdraw(bob, alice_card, "10.00"), 404, "not_found")
    assert_problem(await h.preview(bob, alice_card, "10.00"), 404, "not_found")
    assert await h.rows(bob) == []
    done = await h.withdraw(alice, alice_card, "10.00")
    assert done.status_code == 201, done.text
    withdrawal_id = done.json()["withdrawal"]["id"]
    response = await h.client.get(f"/v1/withdrawals/{withdrawal_id}", headers=h.auth(bob))
    assert_problem(response, 404, "not_found")


async def test_missing_idempotency_key_is_refused(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000011", ICBC, "200.00")
    response = await h.client.post(
        "/v1/withdrawals",
        json={"card_id": card_id, "amount": "10.00", "payment_password": "385916"},
        headers=h.auth(user),
    )
    assert_problem(response, 400, "idempotency_key_required")
    assert await h.rows(user) == []


async def test_replaying_the_key_answers_the_same_without_a_second_withdrawal(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000012", ICBC, "1000.00")
    first = await h.withdraw(user, card_id, "300.52", key="same-key")
    again = await h.withdraw(user, card_id, "300.52", key="same-key")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert len(await h.rows(user)) == 1


async def test_stale_processing_withdrawal_is_settled(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000013", ICBC, "1000.00")
    response = await h.withdraw(user, card_id, "80.52")  # the bank moved the money
    assert response.status_code == 202, response.text
    async with h.engine.begin() as conn:  # as if the process stopped before the answer
        await conn.execute(update(withdrawals).values(status="processing"))
    fresh = await settle_pending_withdrawals(h.services)
    assert fresh.counts() == {"succeeded": 0, "failed": 0}  # may still be on its way
    h.clock.advance(timedelta(minutes=6))
    stale = await settle_pending_withdrawals(h.services)
    assert stale.counts() == {"succeeded": 1, "failed": 0}
    assert await h.balance(user) == Decimal("1000.00") - Decimal("80.52")
    assert (await verify_ledger(h.engine)).clean


async def test_daily_limit_counts_withdrawals_and_a_failed_one_gives_it_back(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    # A class I account (no real name): ¥1,000 a day confirmed by the payment password.
    user, card_id = await h.customer("+8613900000014", ICBC, "2000.00")
    declined = await h.withdraw(user, card_id, "600.53")  # the bank declines .53
    assert_problem(declined, 402, "bank_declined")
    done = await h.withdraw(user, card_id, "900.00")
    assert done.status_code == 201, done.text  # the declined ¥600.53 no longer counts
    before = await h.rows(user)
    balance = await h.balance(user)
    over = await h.withdraw(user, card_id, "100.01")
    body = assert_problem(over, 403, "limit_exceeded")
    assert body["limit"] == "daily_pin"
    assert body["remaining"]["amount"] == "100.00"
    assert await h.rows(user) == before  # refused: nothing recorded, nothing held
    assert await h.balance(user) == balance
    exactly = await h.withdraw(user, card_id, "100.00")
    assert exactly.status_code == 201, exactly.text
