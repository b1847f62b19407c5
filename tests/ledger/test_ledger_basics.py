"""The ledger's API, rule by rule, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import HoldStatus, Ledger, Leg, PostEntry, Side, TransactionKind, transfer
from ewallet.ledger.errors import (
    AccountNotFoundError,
    AlreadyReversedError,
    HoldExpiredError,
    HoldNotPendingError,
    InsufficientBalanceError,
    InvalidEntryError,
    LedgerKeyReusedError,
)
from ewallet.ledger.verify import verify_ledger
from tests.ledger.conftest import Chart, cny


async def balances(ledger: Ledger, chart: Chart) -> dict[str, tuple[int, int, int]]:
    out = {}
    for name in ("bank", "alice", "bob", "merchant"):
        account = await ledger.account(getattr(chart, name).id)
        out[name] = (account.posted, account.pending_debits, account.pending_credits)
    return out


async def topup(ledger: Ledger, chart: Chart, amount: str, key: str = "topup-1") -> None:
    await ledger.transfer(
        key=key,
        debit_account_id=chart.bank.id,
        credit_account_id=chart.alice.id,
        amount=cny(amount),
        kind=TransactionKind.TOPUP,
    )


async def test_topup_and_transfer_move_balances_and_record_balance_after(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    await topup(ledger, chart, "100.00")
    txn = await ledger.transfer(
        key="t-1",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bob.id,
        amount=cny("30.50"),
    )
    assert [(p.account_id, p.amount, p.balance_after) for p in txn.postings] == [
        (chart.alice.id, 3050, 6950),
        (chart.bob.id, -3050, 3050),
    ]
    assert await balances(ledger, chart) == {
        "bank": (10000, 0, 0),
        "alice": (6950, 0, 0),
        "bob": (3050, 0, 0),
        "merchant": (0, 0, 0),
    }
    assert (await verify_ledger(engine)).clean


async def test_insufficient_balance_changes_nothing(ledger: Ledger, chart: Chart) -> None:
    await topup(ledger, chart, "10.00")
    before = await balances(ledger, chart)
    with pytest.raises(InsufficientBalanceError):
        await ledger.transfer(
            key="t-x",
            debit_account_id=chart.alice.id,
            credit_account_id=chart.bob.id,
            amount=cny("10.01"),
        )
    assert await balances(ledger, chart) == before
    assert await ledger.transaction("nope") is None
    # The refused key is still free: the same command succeeds once funds arrive.
    await topup(ledger, chart, "0.01", key="topup-2")
    txn = await ledger.transfer(
        key="t-x",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bob.id,
        amount=cny("10.01"),
    )
    assert not txn.replayed


async def test_same_key_replays_and_different_command_is_refused(
    ledger: Ledger, chart: Chart
) -> None:
    await topup(ledger, chart, "50.00")
    first = await ledger.transfer(
        key="k", debit_account_id=chart.alice.id, credit_account_id=chart.bob.id, amount=cny("5.00")
    )
    again = await ledger.transfer(
        key="k", debit_account_id=chart.alice.id, credit_account_id=chart.bob.id, amount=cny("5.00")
    )
    assert again.replayed
    assert again.id == first.id
    assert again.postings == first.postings
    with pytest.raises(LedgerKeyReusedError):
        await ledger.transfer(
            key="k",
            debit_account_id=chart.alice.id,
            credit_account_id=chart.bob.id,
            amount=cny("6.00"),
        )
    assert (await ledger.account(chart.bob.id)).posted == 500


async def test_refused_entries(ledger: Ledger, chart: Chart) -> None:
    await topup(ledger, chart, "50.00")
    before = await balances(ledger, chart)
    unbalanced = PostEntry(
        key="u",
        kind="adjustment",
        legs=(
            Leg(chart.alice.id, Side.DEBIT, cny("1.00")),
            Leg(chart.bob.id, Side.CREDIT, cny("2.00")),
        ),
    )
    with pytest.raises(InvalidEntryError):
        await ledger.post_entry(unbalanced)
    one_leg = PostEntry(
        key="o", kind="adjustment", legs=(Leg(chart.alice.id, Side.DEBIT, cny("1.00")),)
    )
    with pytest.raises(InvalidEntryError):
        await ledger.post_entry(one_leg)
    with pytest.raises(InvalidEntryError):
        await ledger.transfer(
            key="usd",
            debit_account_id=chart.alice.id,
            credit_account_id=chart.bob.id,
            amount=Money(100, "USD"),
        )
    with pytest.raises(AccountNotFoundError):
        await ledger.transfer(
            key="ghost",
            debit_account_id=chart.alice.id,
            credit_account_id=999_999,
            amount=cny("1.00"),
        )
    assert await balances(ledger, chart) == before


async def test_multi_leg_entry_with_fee(ledger: Ledger, chart: Chart) -> None:
    await topup(ledger, chart, "100.00")
    entry = PostEntry(
        key="pay-1",
        kind=TransactionKind.PAYMENT,
        legs=(
            Leg(chart.alice.id, Side.DEBIT, cny("20.00")),
            Leg(chart.merchant.id, Side.CREDIT, cny("19.80")),
            Leg(chart.bob.id, Side.CREDIT, cny("0.20")),
        ),
        metadata={"order": "o-1"},
    )
    txn = await ledger.post_entry(entry)
    assert sum(p.amount for p in txn.postings) == 0
    assert txn.metadata == {"order": "o-1"}
    assert (await ledger.account(chart.merchant.id)).posted == 1980


async def test_hold_post_partly_releases_the_rest(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    await topup(ledger, chart, "100.00")
    hold = await ledger.create_hold(
        key="h-1",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bank.id,
        amount=cny("60.00"),
        kind=TransactionKind.WITHDRAWAL,
    )
    alice = await ledger.account(chart.alice.id)
    assert (alice.posted, alice.pending_debits, alice.available) == (10000, 6000, 4000)
    with pytest.raises(InsufficientBalanceError):
        await ledger.transfer(
            key="t",
            debit_account_id=chart.alice.id,
            credit_account_id=chart.bob.id,
            amount=cny("40.01"),
        )
    txn = await ledger.post_hold(key="h-1-post", hold_id=hold.id, amount=cny("59.00"))
    assert txn.hold_id == hold.id
    alice = await ledger.account(chart.alice.id)
    assert (alice.posted, alice.pending_debits) == (4100, 0)
    stored = await ledger.hold(hold.id)
    assert stored is not None
    assert stored.status is HoldStatus.POSTED
    assert stored.posted_amount == cny("59.00")
    with pytest.raises(HoldNotPendingError):
        await ledger.void_hold(hold.id)
    again = await ledger.post_hold(key="h-1-post", hold_id=hold.id, amount=cny("59.00"))
    assert again.replayed
    assert again.id == txn.id
    assert (await verify_ledger(engine)).clean


async def test_hold_void_and_expiry(
    ledger: Ledger, chart: Chart, clock: FrozenClock, engine: AsyncEngine
) -> None:
    await topup(ledger, chart, "100.00")
    hold = await ledger.create_hold(
        key="h-v",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bank.id,
        amount=cny("30.00"),
        kind=TransactionKind.WITHDRAWAL,
    )
    voided = await ledger.void_hold(hold.id)
    assert voided.status is HoldStatus.VOIDED
    assert (await ledger.void_hold(hold.id)).replayed
    expiring = await ledger.create_hold(
        key="h-e",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bank.id,
        amount=cny("30.00"),
        kind=TransactionKind.WITHDRAWAL,
        expires_at=clock.now() + timedelta(minutes=5),
    )
    assert await ledger.expire_due_holds() == 0
    clock.advance(timedelta(minutes=5))
    with pytest.raises(HoldExpiredError):
        await ledger.post_hold(key="late", hold_id=expiring.id)
    assert await ledger.expire_due_holds() == 1
    stored = await ledger.hold(expiring.id)
    assert stored is not None
    assert stored.status is HoldStatus.EXPIRED
    alice = await ledger.account(chart.alice.id)
    assert (alice.posted, alice.pending_debits) == (10000, 0)
    assert (await verify_ledger(engine)).clean


async def test_hold_cannot_exceed_available(ledger: Ledger, chart: Chart) -> None:
    await topup(ledger, chart, "10.00")
    with pytest.raises(InsufficientBalanceError):
        await ledger.create_hold(
            key="big",
            debit_account_id=chart.alice.id,
            credit_account_id=chart.bank.id,
            amount=cny("10.01"),
            kind=TransactionKind.WITHDRAWAL,
        )
    alice = await ledger.account(chart.alice.id)
    assert alice.pending_debits == 0


async def test_reversal_negates_once(ledger: Ledger, chart: Chart, engine: AsyncEngine) -> None:
    await topup(ledger, chart, "100.00")
    txn = await ledger.transfer(
        key="t",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bob.id,
        amount=cny("25.00"),
    )
    reversal = await ledger.reverse(key="r", transaction_id=txn.id, metadata={"reason": "dispute"})
    assert reversal.reverses_id == txn.id
    assert [p.amount for p in reversal.postings] == [-p.amount for p in txn.postings]
    assert (await ledger.account(chart.bob.id)).posted == 0
    with pytest.raises(AlreadyReversedError):
        await ledger.reverse(key="r2", transaction_id=txn.id)
    with pytest.raises(InvalidEntryError):
        await ledger.reverse(key="r3", transaction_id=reversal.id)
    assert (await verify_ledger(engine)).clean


async def test_reversal_refused_when_money_was_spent(ledger: Ledger, chart: Chart) -> None:
    await topup(ledger, chart, "100.00")
    txn = await ledger.transfer(
        key="t",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bob.id,
        amount=cny("25.00"),
    )
    await ledger.transfer(
        key="spend",
        debit_account_id=chart.bob.id,
        credit_account_id=chart.merchant.id,
        amount=cny("20.00"),
    )
    with pytest.raises(InsufficientBalanceError):
        await ledger.reverse(key="r", transaction_id=txn.id)


async def test_history_is_newest_first_and_paginated(
    ledger: Ledger, chart: Chart, clock: FrozenClock
) -> None:
    await topup(ledger, chart, "100.00")
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        await ledger.transfer(
            key=f"t{n}",
            debit_account_id=chart.alice.id,
            credit_account_id=chart.bob.id,
            amount=cny("1.00"),
        )
    page = await ledger.history(chart.alice.id, limit=4)
    assert [item.posting.balance_after for item in page.items] == [9500, 9600, 9700, 9800]
    assert page.next_cursor is not None
    rest = await ledger.history(chart.alice.id, limit=4, cursor=page.next_cursor)
    assert [item.posting.balance_after for item in rest.items] == [9900, 10000]
    assert [item.kind for item in rest.items] == ["transfer", "topup"]
    assert rest.next_cursor is None


async def test_balance_at_a_past_time(ledger: Ledger, chart: Chart, clock: FrozenClock) -> None:
    start = clock.now()
    await topup(ledger, chart, "100.00")
    clock.advance(timedelta(hours=1))
    middle = clock.now()
    await ledger.transfer(
        key="t",
        debit_account_id=chart.alice.id,
        credit_account_id=chart.bob.id,
        amount=cny("40.00"),
    )
    assert await ledger.balance_at(chart.alice.id, start - timedelta(seconds=1)) == cny(
        "0.01"
    ) - cny("0.01")
    assert await ledger.balance_at(chart.alice.id, start) == cny("100.00")
    assert await ledger.balance_at(chart.alice.id, middle + timedelta(minutes=1)) == cny("60.00")


async def test_batch_refusal_does_not_fail_neighbours(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    await topup(ledger, chart, "10.00")
    results = await ledger.execute_many(
        [
            transfer(
                key="a",
                debit_account_id=chart.alice.id,
                credit_account_id=chart.bob.id,
                amount=cny("6.00"),
            ),
            transfer(
                key="b",
                debit_account_id=chart.alice.id,
                credit_account_id=chart.bob.id,
                amount=cny("6.00"),
            ),
            transfer(
                key="c",
                debit_account_id=chart.alice.id,
                credit_account_id=chart.bob.id,
                amount=cny("4.00"),
            ),
            transfer(
                key="a",
                debit_account_id=chart.alice.id,
                credit_account_id=chart.bob.id,
                amount=cny("6.00"),
            ),
        ]
    )
    assert [type(r).__name__ for r in results] == [
        "Transaction",
        "InsufficientBalanceError",
        "Transaction",
        "Transaction",
    ]
    assert getattr(results[3], "replayed", False)
    assert (await ledger.account(chart.alice.id)).posted == 0
    assert (await verify_ledger(engine)).clean


async def test_open_account_is_idempotent_by_code(ledger: Ledger) -> None:
    first = await ledger.open_account(code="wallet:x:CNY", kind="wallet", normal_side=Side.CREDIT)
    again = await ledger.open_account(code="wallet:x:CNY", kind="wallet", normal_side=Side.CREDIT)
    assert first.id == again.id
    with pytest.raises(InvalidEntryError):
        await ledger.open_account(code="wallet:x:CNY", kind="merchant", normal_side=Side.CREDIT)
