"""Reconciling a day: what matches, what gets settled, and each kind of mismatch.

Each test makes the situation through the real stack (API, sandbox bank over HTTP, PSP
sandbox) and, where the situation needs a fault the sandbox cannot produce, through the
wallet's own settle steps, then runs the reconciliation and checks the stored findings, the
balances and ``ledger verify``.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from ewallet.funding.topups.card.service import mark_card_topup_failed
from ewallet.funding.topups.service import find_topup
from ewallet.funding.withdrawals.service import fail_withdrawal
from ewallet.kit.money import Money
from ewallet.ledger.verify import verify_ledger
from ewallet.models.tables import cards, topups
from ewallet.reconciliation.views import ItemView
from tests.fixtures.withdrawals import ICBC, Withdrawing
from tests.reconciliation.helpers import reconcile, top_up


def categories(items: list[ItemView]) -> list[str]:
    return sorted(item.category for item in items)


async def test_a_clean_day_matches_everything(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000101", ICBC, "500.00")
    assert (await top_up(h, user, card_id, "120.00")).status_code == 201
    assert (await h.withdraw(user, card_id, "50.00")).status_code == 201
    run, items = await reconcile(h)
    assert run.status == "completed"
    assert run.counts["matched"] == 2
    assert run.counts["mismatches"] == 0
    assert items == []


async def test_pending_topup_in_the_file_is_credited_from_it(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000102", ICBC, "0.00")
    response = await top_up(h, user, card_id, "66.52")  # committed, then a 500
    assert response.status_code == 202, response.text
    run, items = await reconcile(h)
    assert categories(items) == ["credited"]
    assert run.counts["mismatches"] == 0
    assert await h.balance(user) == Decimal("66.52")
    suspense = await h.ledger.account_by_code("suspense:CNY")
    assert suspense is not None
    assert suspense.posted == 0
    again, _ = await reconcile(h)  # a second run finds it matched and changes nothing
    assert (again.counts["matched"], again.counts["settled"]) == (1, 0)
    assert await h.balance(user) == Decimal("66.52")
    assert (await verify_ledger(h.engine)).clean


async def test_topup_failed_by_the_wallet_but_debited_is_credited_late(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000103", ICBC, "0.00")
    response = await top_up(h, user, card_id, "30.56")  # committed, connection dropped
    topup_id = response.json()["topup"]["id"]
    topup = await find_topup(h.services, topup_id)
    assert topup is not None
    # As if someone gave up on it too early: failed, suspense released.
    assert await mark_card_topup_failed(h.services, topup, bank_code="ICBC", reason="given up")
    assert await h.balance(user) == Decimal("0.00")
    run, items = await reconcile(h)
    assert categories(items) == ["late_credited"]
    assert run.counts["mismatches"] == 0
    assert await h.balance(user) == Decimal("30.56")
    assert (await verify_ledger(h.engine)).clean


async def test_withdrawal_released_but_paid_needs_a_person(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000104", ICBC, "500.00")
    response = await h.withdraw(user, card_id, "80.52")  # the bank paid, then a 500
    assert response.status_code == 202, response.text
    withdrawal_id = response.json()["withdrawal"]["id"]
    await fail_withdrawal(h.services, withdrawal_id, "given up")  # released: wrong
    run, items = await reconcile(h)
    (item,) = items
    assert (item.category, item.needs_action) == ("released_but_paid", True)
    assert item.reference == f"withdrawal:{withdrawal_id}"
    assert run.counts["mismatches"] == 1
    assert await h.balance(user) == Decimal("500.00")  # nothing done automatically


async def test_movement_unknown_to_the_wallet_is_reported(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000105", ICBC, "0.00")
    assert await h.rows(user) == []
    async with h.engine.connect() as conn:
        query = select(cards.c.agreement_token_encrypted).where(cards.c.id == card_id)
        token = (await conn.execute(query)).scalar_one()
    agreement = h.security.cipher.decrypt(token, context=f"agreement:{card_id}")
    result = await h.gateway.debit(
        agreement_token=agreement, amount=Money(12_00), request_id="topup:top_nobody"
    )
    assert result.status == "succeeded"
    run, items = await reconcile(h)
    (item,) = items
    assert (item.category, item.reference) == ("unknown_at_wallet", "topup:top_nobody")
    assert item.external_amount == 12_00
    assert run.counts["mismatches"] == 1


async def test_wallet_credit_the_bank_never_made_is_reported(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000106", ICBC, "0.00")
    response = await top_up(h, user, card_id, "40.00")
    topup_id = response.json()["topup"]["id"]
    # A forged success: the row says succeeded for a debit the bank has no record of.
    async with h.engine.begin() as conn:
        await conn.execute(
            update(topups).where(topups.c.id == topup_id).values(id="top_forged000000000000000")
        )
    run, items = await reconcile(h)
    found = {item.category for item in items}
    assert found == {"missing_at_provider", "unknown_at_wallet"}
    assert run.counts["mismatches"] == 2


async def test_psp_payment_whose_notification_was_lost_is_credited(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    user = await h.user(phone="+8613900000107", pin="385916")
    response = await h.client.post(
        "/v1/topups",
        json={"method": "alipay", "amount": "88.00"},
        headers=h.auth(user, **{"Idempotency-Key": "alipay-88"}),
    )
    assert response.status_code == 201, response.text
    topup_id = response.json()["topup"]["id"]
    assert h.app is not None
    sandbox = h.app.state.psp_sandboxes.alipay
    sandbox.trades[topup_id].notify_url = None  # the notification never comes
    sandbox.pay(topup_id)
    _, items = await reconcile(h)
    assert categories(items) == ["credited"]
    assert items[0].source == "alipay"
    assert await h.balance(user) == Decimal("88.00")
    again, _ = await reconcile(h)
    assert (again.counts["matched"], again.counts["mismatches"]) == (1, 0)
    assert await h.balance(user) == Decimal("88.00")


async def test_cli_style_run_without_psps_says_so(withdrawing: Withdrawing) -> None:
    h = withdrawing
    run, items = await reconcile(h, psp=False)
    assert items == []
    assert any("PSP records not compared" in note for note in run.notes)


async def test_unread_rows_are_untouched_by_a_refused_run(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000108", ICBC, "0.00")
    await top_up(h, user, card_id, "10.00")
    async with h.engine.connect() as conn:
        before = (await conn.execute(select(topups))).all()
    await reconcile(h)
    async with h.engine.connect() as conn:
        after = (await conn.execute(select(topups))).all()
    assert before == after  # a matched day changes no top-up
