"""Races with real parallel database connections (each worker holds its own connection).

What must hold whatever the interleaving: money is conserved, no wallet goes negative,
``ledger verify`` is clean, a ring of transfers never deadlocks into failure, a wallet's
whole balance is spent once, and a repeated idempotency key makes one transaction.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import SystemClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.db.uow import UnitOfWork
from ewallet.kit.money import Money
from ewallet.ledger import Account, Ledger, Side, Transaction, TransactionKind, transfer
from ewallet.ledger.batch import execute_batch
from ewallet.ledger.errors import InsufficientBalanceError
from ewallet.ledger.verify import verify_ledger

pytestmark = pytest.mark.slow


async def funded_wallets(
    ledger: Ledger, count: int, minor_each: int
) -> tuple[Account, list[Account]]:
    bank = await ledger.open_account(
        code="bank:TEST:CNY", kind="bank_settlement", normal_side=Side.DEBIT, may_go_negative=True
    )
    wallets = []
    for n in range(count):
        wallet = await ledger.open_account(
            code=f"wallet:{n}:CNY", kind="wallet", normal_side=Side.CREDIT
        )
        await ledger.transfer(
            key=f"fund-{n}",
            debit_account_id=bank.id,
            credit_account_id=wallet.id,
            amount=Money(minor_each),
            kind=TransactionKind.TOPUP,
        )
        wallets.append(wallet)
    return bank, wallets


async def total_of(ledger: Ledger, wallets: list[Account]) -> int:
    return sum([(await ledger.account(w.id)).posted for w in wallets])


@pytest.mark.parametrize(("group_commit", "seconds"), [(False, 5.0), (True, 2.0)])
async def test_random_transfers_conserve_money(
    engine: AsyncEngine, group_commit: bool, seconds: float
) -> None:
    ledger = Ledger(engine, clock=SystemClock(), group_commit=group_commit, max_batch=32)
    await ledger.start()
    _, wallets = await funded_wallets(ledger, 20, 10_000)
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + seconds

    async def worker(worker_id: int) -> None:
        rng = random.Random(worker_id)
        n = 0
        while time.monotonic() < deadline:
            source, target = rng.sample(wallets, 2)
            n += 1
            try:
                await ledger.transfer(
                    key=f"w{worker_id}-{n}",
                    debit_account_id=source.id,
                    credit_account_id=target.id,
                    amount=Money(rng.randint(1, 4_000)),
                )
                outcomes["ok"] += 1
            except InsufficientBalanceError:
                outcomes["insufficient"] += 1

    await asyncio.gather(*(worker(i) for i in range(32)))
    await ledger.aclose()
    assert outcomes["ok"] > 50
    assert await total_of(ledger, wallets) == 20 * 10_000
    for wallet in wallets:
        assert (await ledger.account(wallet.id)).posted >= 0
    report = await verify_ledger(engine)
    assert report.clean, report.violations


async def test_ring_of_transfers_never_fails(engine: AsyncEngine) -> None:
    ledger = Ledger(engine, clock=SystemClock())
    _, wallets = await funded_wallets(ledger, 26, 1_000)
    for round_no in range(3):
        ring = [
            ledger.transfer(
                key=f"ring-{round_no}-{i}",
                debit_account_id=wallets[i].id,
                credit_account_id=wallets[(i + 1) % len(wallets)].id,
                amount=Money(500),
            )
            for i in range(len(wallets))
        ]
        results = await asyncio.gather(*ring)
        assert all(isinstance(r, Transaction) for r in results)
    assert all([(await ledger.account(w.id)).posted == 1_000 for w in wallets])
    assert (await verify_ledger(engine)).clean


@pytest.mark.parametrize("group_commit", [False, True])
async def test_fifty_spends_of_the_whole_balance_one_wins(
    engine: AsyncEngine, group_commit: bool
) -> None:
    ledger = Ledger(engine, clock=SystemClock(), group_commit=group_commit)
    await ledger.start()
    _, (payer, payee) = await funded_wallets(ledger, 2, 5_000)
    spends = [
        ledger.transfer(
            key=f"spend-{n}",
            debit_account_id=payer.id,
            credit_account_id=payee.id,
            amount=Money(5_000),
        )
        for n in range(50)
    ]
    results = await asyncio.gather(*spends, return_exceptions=True)
    await ledger.aclose()
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Transaction": 1, "InsufficientBalanceError": 49}
    assert (await ledger.account(payer.id)).posted == 0
    assert (await ledger.account(payee.id)).posted == 10_000
    assert (await verify_ledger(engine)).clean


@pytest.mark.parametrize("group_commit", [False, True])
async def test_same_key_twenty_times_at_once_is_one_transaction(
    engine: AsyncEngine, group_commit: bool
) -> None:
    ledger = Ledger(engine, clock=SystemClock(), group_commit=group_commit)
    await ledger.start()
    _, (payer, payee) = await funded_wallets(ledger, 2, 5_000)
    sends = [
        ledger.transfer(
            key="once", debit_account_id=payer.id, credit_account_id=payee.id, amount=Money(1_000)
        )
        for _ in range(20)
    ]
    results = await asyncio.gather(*sends)
    await ledger.aclose()
    assert len({r.id for r in results}) == 1
    assert sum(1 for r in results if not r.replayed) == 1
    assert (await ledger.account(payer.id)).posted == 4_000
    assert (await verify_ledger(engine)).clean


async def test_same_key_from_separate_engines(database_url: str) -> None:
    """Two engines (as two API processes would have) race on one key: one transaction."""
    engines = [make_engine(database_url, pool_size=10) for _ in range(2)]
    try:
        ledgers = [Ledger(e, clock=SystemClock()) for e in engines]
        _, (payer, payee) = await funded_wallets(ledgers[0], 2, 5_000)
        sends = [
            ledgers[n % 2].transfer(
                key="cross",
                debit_account_id=payer.id,
                credit_account_id=payee.id,
                amount=Money(700),
            )
            for n in range(20)
        ]
        results = await asyncio.gather(*sends)
        assert len({r.id for r in results}) == 1
        assert (await ledgers[1].account(payer.id)).posted == 4_300
    finally:
        for e in engines:
            await e.dispose()


async def lock_waiters(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int((await conn.execute(query)).scalar_one())


@pytest.mark.parametrize("group_commit", [False, True])
async def test_a_duplicate_committed_during_the_lock_wait_is_a_replay(
    engine: AsyncEngine, backend: str, group_commit: bool
) -> None:
    """The ledger's own units read keys with the account lock (on PostgreSQL, as of the
    statement's start): a duplicate its holder commits meanwhile fails the insert, and the
    rerun answers it as a replay -- one transaction, the money moved once."""
    ledger = Ledger(engine, clock=SystemClock(), group_commit=group_commit)
    await ledger.start()
    _, (payer, payee) = await funded_wallets(ledger, 2, 5_000)
    command = transfer(
        key="raced", debit_account_id=payer.id, credit_account_id=payee.id, amount=Money(1_200)
    )
    async with UnitOfWork(engine) as holder:
        [first] = await execute_batch(await holder.connection(), [command], now=SystemClock().now())
        waiting = asyncio.create_task(ledger.execute(command))
        if backend == "postgresql":  # the second must be inside its lock statement
            for _ in range(500):
                if await lock_waiters(engine):
                    break
                await asyncio.sleep(0.01)
            assert await lock_waiters(engine) >= 1
        else:  # SQLite: it waits for the writer lock instead
            await asyncio.sleep(0.2)
        assert not waiting.done()
        await holder.commit()
    second = await asyncio.wait_for(waiting, timeout=60)
    await ledger.aclose()
    assert isinstance(first, Transaction)
    assert isinstance(second, Transaction)
    assert (second.id, second.replayed) == (first.id, True)
    assert (await ledger.account(payer.id)).posted == 3_800
    assert (await ledger.account(payee.id)).posted == 6_200
    assert (await verify_ledger(engine)).clean
