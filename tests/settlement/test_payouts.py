"""The daily run: a day's net paid to the merchant's account once, whatever happens.

Rerun, cancelled half-way, bank timeouts, answers lost after the bank paid, declines, a
name that is not the holder's, a shortfall carried forward, billers' payables; the ledger
verifies after every run (:meth:`Settling.run`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.ledger import chart
from ewallet.models.settlement import PartyKind, SettlementStatus
from ewallet.models.tables import billers
from ewallet.sandbox.bank.cards import TEST_CARDS
from ewallet.settlement.errors import DayNotSettleableError
from ewallet.settlement.service import run_settlement, set_payout_account, settle_open_payouts
from tests.settlement.conftest import (
    CCB,
    DECLINING,
    FIRST_DAY,
    ICBC,
    TIMEOUT_CARD,
    Settling,
    at,
)
from tests.settlement.helpers import bank_balance, payouts_at_bank

D = FIRST_DAY
D1 = D + timedelta(days=1)
D2 = D + timedelta(days=2)
SLOW = TEST_CARDS[8]


async def test_a_day_is_paid_once_and_a_rerun_pays_nobody_again(settling: Settling) -> None:
    bakery = await settling.shop_with_account("Corner Bakery")
    tea = await settling.shop_with_account("Tea House", CCB)
    bakery_id, tea_id = bakery.merchant.id, tea.merchant.id
    await settling.sale(bakery_id, 12_30, 5, at(D, 9))
    await settling.sale(bakery_id, 100_00, 38, at(D, 23, 59))
    await settling.sale(tea_id, 8_00, 3, at(D, 12))
    await settling.give_back(tea_id, 2_00, 1, at(D, 13))
    await settling.sale(bakery_id, 50_00, 19, at(D1, 0, 1))  # tomorrow's
    icbc_before = await bank_balance(settling.app, ICBC)
    ccb_before = await bank_balance(settling.app, CCB)

    first = await settling.run(D)

    assert (len(first.paid), first.paid_total) == (2, (112_30 - 43) + (6_00 - 2))
    assert await bank_balance(settling.app, ICBC) == icbc_before + 112_30 - 43
    assert await bank_balance(settling.app, CCB) == ccb_before + 6_00 - 2
    (row,) = await settling.rows(bakery_id)
    assert (row.status, row.net, row.amount, row.carried_in) == (
        "paid",
        112_30 - 43,
        112_30 - 43,
        0,
    )
    assert row.bank_request_id == f"payout:{row.id}"
    assert row.bank_reference.startswith("SB")
    # Tomorrow's sale stays with the merchant for tomorrow.
    assert await settling.available(bakery_id) == 50_00 - 19

    again = await settling.run(D)
    assert again.paid == []
    assert len(again.already_done) == 2
    assert len(await payouts_at_bank(settling.app)) == 2
    assert await bank_balance(settling.app, ICBC) == icbc_before + 112_30 - 43

    nxt = await settling.run(D1)
    assert nxt.paid_total == 50_00 - 19
    assert await settling.available(bakery_id) == 0


async def test_a_day_that_has_not_ended_is_refused(settling: Settling) -> None:
    shop = await settling.shop_with_account()
    await settling.sale(shop.merchant.id, 5_00, 0, at(D, 10))
    settling.clock.set(at(D, 23, 59))
    with pytest.raises(DayNotSettleableError):
        await run_settlement(settling.services, day=D)
    assert await settling.rows(shop.merchant.id) == []
    assert await payouts_at_bank(settling.app) == []
    assert await settling.available(shop.merchant.id) == 5_00


async def test_a_shortfall_and_a_negative_day_are_carried_not_paid(settling: Settling) -> None:
    shop = await settling.shop_with_account()
    shop_id = shop.merchant.id
    await settling.sale(shop_id, 500_00, 0, at(D, 10))
    # A refund early on D+1, before D is settled: D's net is 500, but only 100 is left.
    await settling.give_back(shop_id, 400_00, 0, at(D1, 1))
    first = await settling.run(D)
    assert first.paid_total == 100_00
    # D+1's net is -400 against 400 still owed: nothing to pay, carried.
    second = await settling.run(D1)
    assert second.paid == []
    assert len(second.carried) == 1
    rows = await settling.rows(shop_id)
    assert [(r.net, r.carried_in, r.amount, r.status) for r in rows] == [
        (500_00, 0, 100_00, "paid"),
        (-400_00, 400_00, 0, "carried"),
    ]
    # A quiet day with nothing owed makes no row at all.
    await settling.run(D2)
    assert len(await settling.rows(shop_id)) == 2
    assert await settling.available(shop_id) == 0


async def test_cancelled_between_payouts_then_rerun_pays_each_once(settling: Settling) -> None:
    shops = [await settling.shop_with_account(f"Shop {n}") for n in range(6)]
    for n, shop in enumerate(shops):
        await settling.sale(shop.merchant.id, 10_00 + n, 0, at(D, 10))
    before = await bank_balance(settling.app, ICBC)
    settling.clock.set(at(D1, 2))
    task: asyncio.Task[object]

    def stop_half_way(done: int, total: int) -> None:
        if done == 3:
            task.cancel()

    task = asyncio.create_task(
        run_settlement(settling.services, day=D, progress=stop_half_way, concurrency=1)
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(await payouts_at_bank(settling.app)) < 6

    await settling.run(D)
    await settling.run(D)
    paid = await payouts_at_bank(settling.app)
    assert sorted(int(p.amount_fen) for p in paid) == [10_00 + n for n in range(6)]
    assert len({p.request_id for p in paid}) == 6
    assert await bank_balance(settling.app, ICBC) == before + sum(10_00 + n for n in range(6))
    for shop in shops:
        (row,) = await settling.rows(shop.merchant.id)
        assert row.status == SettlementStatus.PAID
        assert await settling.available(shop.merchant.id) == 0


async def test_a_timeout_leaves_the_payout_pending_with_the_money_held(settling: Settling) -> None:
    shop = await settling.shop_with_account("Slow Bank Shop", TIMEOUT_CARD)
    await settling.sale(shop.merchant.id, 30_00, 0, at(D, 10))

    report = await settling.run(D)

    assert len(report.pending) == 1
    (row,) = await settling.rows(shop.merchant.id)
    assert (row.status, row.amount, row.failure_reason) == ("pending", 30_00, "timeout")
    account = await settling.ledger.account_by_code(f"merchant:{shop.merchant.id}:CNY")
    assert account is not None
    assert account.pending_debits == 30_00
    assert await payouts_at_bank(settling.app) == []  # the bank committed nothing
    # The next run asks, finds nothing, sends again with the same id: still pending.
    again = await settling.run(D)
    assert len(again.pending) == 1
    assert (await settling.rows(shop.merchant.id))[0].status == "pending"


async def test_a_lost_answer_is_settled_later_from_the_bank(settling: Settling) -> None:
    shop = await settling.shop_with_account()
    # .56: the bank pays, then the connection drops before the answer.
    await settling.sale(shop.merchant.id, 20_56, 0, at(D, 10))
    before = await bank_balance(settling.app, ICBC)
    report = await settling.run(D)
    assert len(report.pending) == 1
    assert await bank_balance(settling.app, ICBC) == before + 20_56

    finished = await settle_open_payouts(settling.services)

    assert len(finished.paid) == 1
    (row,) = await settling.rows(shop.merchant.id)
    assert row.status == "paid"
    assert row.bank_reference is not None
    assert await settling.available(shop.merchant.id) == 0
    assert await bank_balance(settling.app, ICBC) == before + 20_56  # paid once


async def test_a_decline_releases_the_money_and_it_is_paid_later(settling: Settling) -> None:
    shop = await settling.shop_with_account("Declined", DECLINING)
    await settling.sale(shop.merchant.id, 40_00, 0, at(D, 10))
    first = await settling.run(D)
    assert len(first.failed) == 1
    assert await settling.available(shop.merchant.id) == 40_00
    # Staff fix the account; the next day carries the 40 in and pays it.
    await set_payout_account(
        settling.services,
        Actor.system(),
        party_kind=PartyKind.MERCHANT,
        party_id=shop.merchant.id,
        account_number=ICBC.number,
        holder_name=ICBC.holder_name,
    )
    await settling.sale(shop.merchant.id, 1_00, 0, at(D1, 10))
    second = await settling.run(D1)
    assert second.paid_total == 41_00
    rows = await settling.rows(shop.merchant.id)
    assert [(r.status, r.carried_in, r.amount) for r in rows] == [
        ("failed", 0, 40_00),
        ("paid", 40_00, 41_00),
    ]


async def test_the_bank_refuses_a_holder_name_that_is_not_the_accounts(settling: Settling) -> None:
    shop = await settling.shop_with_account("Wrong Name", ICBC, holder="王芳")
    await settling.sale(shop.merchant.id, 9_00, 0, at(D, 10))
    report = await settling.run(D)
    assert len(report.failed) == 1
    (row,) = await settling.rows(shop.merchant.id)
    assert (row.status, row.failure_reason) == ("failed", "name_mismatch")
    assert await settling.available(shop.merchant.id) == 9_00


async def test_no_payout_account_carries_the_money(settling: Settling) -> None:
    from ewallet.merchants.service import create_merchant  # noqa: PLC0415

    shop = await create_merchant(settling.services, Actor.system(), name="No Account")
    await settling.sale(shop.merchant.id, 7_00, 0, at(D, 10))
    report = await settling.run(D)
    (row,) = await settling.rows(shop.merchant.id)
    assert (row.status, row.failure_reason, row.amount) == ("carried", "no_payout_account", 0)
    assert len(report.carried) == 1
    assert await settling.available(shop.merchant.id) == 7_00


async def test_billers_are_paid_their_payables(settling: Settling) -> None:
    async with settling.engine.connect() as conn:
        biller_id = await conn.scalar(select(billers.c.id).order_by(billers.c.id).limit(1))
    assert biller_id is not None
    await set_payout_account(
        settling.services,
        Actor.system(),
        party_kind=PartyKind.BILLER,
        party_id=biller_id,
        account_number=SLOW.number,
        holder_name=SLOW.holder_name,
    )
    ledger = settling.services.ledger
    funding = await chart.account_id(ledger, chart.bank_settlement("FUNDING"))
    payable = await chart.account_id(ledger, chart.biller_payable(biller_id))
    settling.clock.set(at(D, 15))
    await ledger.transfer(
        key="bill-1",
        debit_account_id=funding,
        credit_account_id=payable,
        amount=__import__("ewallet.kit.money", fromlist=["Money"]).Money(88_00),
        kind="bill",
    )
    before = await bank_balance(settling.app, SLOW)
    report = await settling.run(D)
    assert report.paid_total == 88_00
    assert await bank_balance(settling.app, SLOW) == before + 88_00
    (row,) = await settling.rows(biller_id)
    assert (row.party_kind, row.status) == ("biller", "paid")
