"""Hot accounts: credited through balance deltas, without the account row's lock.

A merchant that every customer pays must not serialize its customers: an entry that only
raises a hot account appends a delta instead of locking the row, and whoever next needs the
exact balance (a refund lowering it, the fold job) folds the deltas in under the lock.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from ewallet.cli.main import app
from ewallet.kit.clock import FrozenClock, SystemClock
from ewallet.kit.money import Money
from ewallet.ledger import Account, HoldStatus, Ledger, Side, TransactionKind
from ewallet.ledger.domain import AccountState, lock_needed
from ewallet.ledger.errors import InsufficientBalanceError
from ewallet.ledger.upkeep import upkeep_in_background
from ewallet.ledger.verify import verify_ledger
from tests.ledger.conftest import Chart, cny


async def open_shop(ledger: Ledger, name: str = "shop") -> Account:
    return await ledger.open_account(
        code=f"merchant:{name}:CNY", kind="merchant", normal_side=Side.CREDIT, hot=True
    )


async def fund(ledger: Ledger, chart: Chart, wallet: Account, amount: str, key: str) -> None:
    await ledger.transfer(
        key=key,
        debit_account_id=chart.bank.id,
        credit_account_id=wallet.id,
        amount=cny(amount),
        kind=TransactionKind.TOPUP,
    )


async def pay(ledger: Ledger, payer: Account, shop: Account, amount: str, key: str) -> None:
    await ledger.transfer(
        key=key,
        debit_account_id=payer.id,
        credit_account_id=shop.id,
        amount=cny(amount),
        kind=TransactionKind.PAYMENT,
    )


async def refund(ledger: Ledger, shop: Account, payer: Account, amount: str, key: str) -> None:
    await ledger.transfer(
        key=key,
        debit_account_id=shop.id,
        credit_account_id=payer.id,
        amount=cny(amount),
        kind=TransactionKind.REFUND,
    )


async def cached_posted(engine: AsyncEngine, account: Account) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT posted FROM ledger_accounts WHERE id = :a"), {"a": account.id}
        )
        return int(found.scalar_one())


async def delta_count(engine: AsyncEngine, account: Account) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT COUNT(*) FROM ledger_balance_deltas WHERE account_id = :a"),
            {"a": account.id},
        )
        return int(found.scalar_one())


def state(*, hot: bool, normal: Side, may_go_negative: bool = False) -> AccountState:
    return AccountState(
        id=7,
        code="x",
        kind="k",
        currency="CNY",
        normal_side=normal,
        may_go_negative=may_go_negative,
        posted=0,
        pending_debits=0,
        pending_credits=0,
        hot=hot,
    )


@pytest.mark.parametrize(
    ("account", "always", "debited", "credited", "locked"),
    [
        (state(hot=False, normal=Side.CREDIT), set(), set(), {7}, True),
        (state(hot=True, normal=Side.CREDIT), set(), set(), {7}, False),  # a payment
        (state(hot=True, normal=Side.CREDIT), set(), {7}, set(), True),  # a refund
        (state(hot=True, normal=Side.CREDIT), set(), {7}, {7}, True),
        (state(hot=True, normal=Side.CREDIT), {7}, set(), {7}, True),  # a hold
        (state(hot=True, normal=Side.DEBIT), set(), {7}, set(), False),
        (state(hot=True, normal=Side.DEBIT), set(), set(), {7}, True),
        (state(hot=True, normal=Side.DEBIT, may_go_negative=True), set(), {7}, {7}, False),
        (state(hot=True, normal=Side.DEBIT, may_go_negative=True), {7}, {7}, set(), True),
    ],
)
def test_which_accounts_a_batch_locks(
    account: AccountState, always: set[int], debited: set[int], credited: set[int], locked: bool
) -> None:
    assert lock_needed(account, always=always, debited=debited, credited=credited) is locked


async def test_credits_go_to_deltas_and_count_in_the_balance(
    ledger: Ledger, chart: Chart, engine: AsyncEngine, clock: FrozenClock
) -> None:
    shop = await open_shop(ledger)
    assert shop.hot
    await fund(ledger, chart, chart.alice, "100.00", "fund")
    await pay(ledger, chart.alice, shop, "30.00", "pay-1")
    await pay(ledger, chart.alice, shop, "20.00", "pay-2")
    assert await cached_posted(engine, shop) == 0  # the row was not touched
    assert await delta_count(engine, shop) == 2
    assert (await ledger.account(shop.id)).posted == 5_000
    assert (await ledger.account_by_code(shop.code)) == await ledger.account(shop.id)
    history = await ledger.history(shop.id)
    assert [item.posting.balance_after for item in history.items] == [None, None]
    # The payer's side is an ordinary account: its running balance is recorded.
    payer_history = await ledger.history(chart.alice.id)
    assert payer_history.items[0].posting.balance_after == 5_000
    assert await ledger.balance_at(shop.id, clock.now()) == cny("50.00")
    assert (await verify_ledger(engine)).clean


async def test_a_refund_folds_the_deltas_and_checks_the_real_balance(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    shop = await open_shop(ledger)
    await fund(ledger, chart, chart.alice, "100.00", "fund")
    await pay(ledger, chart.alice, shop, "30.00", "pay-1")
    # More than the shop holds, though less than it will hold: refused, nothing changed.
    with pytest.raises(InsufficientBalanceError):
        await refund(ledger, shop, chart.alice, "30.01", "refund-too-much")
    assert (await ledger.account(shop.id)).posted == 3_000
    assert (await ledger.account(chart.alice.id)).posted == 7_000
    await refund(ledger, shop, chart.alice, "30.00", "refund-all")
    assert await delta_count(engine, shop) == 0  # folded under the lock
    assert await cached_posted(engine, shop) == 0
    assert (await ledger.account(chart.alice.id)).posted == 10_000
    with pytest.raises(InsufficientBalanceError):
        await refund(ledger, shop, chart.alice, "0.01", "refund-nothing-left")
    assert (await verify_ledger(engine)).clean


async def test_the_fold_job_moves_deltas_onto_the_row(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    shops = [await open_shop(ledger, f"s{n}") for n in range(3)]
    await fund(ledger, chart, chart.bob, "10.00", "fund")
    for n, shop in enumerate(shops):
        await pay(ledger, chart.bob, shop, f"{n + 1}.00", f"pay-{n}")
    assert await ledger.fold_balance_deltas() == 3
    assert await ledger.fold_balance_deltas() == 0
    for n, shop in enumerate(shops):
        assert await cached_posted(engine, shop) == (n + 1) * 100
        assert await delta_count(engine, shop) == 0
        assert (await ledger.account(shop.id)).posted == (n + 1) * 100
    assert (await verify_ledger(engine)).clean


async def test_a_reversal_of_a_payment_locks_the_shop(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    shop = await open_shop(ledger)
    await fund(ledger, chart, chart.alice, "10.00", "fund")
    payment = await ledger.transfer(
        key="pay",
        debit_account_id=chart.alice.id,
        credit_account_id=shop.id,
        amount=cny("4.00"),
        kind=TransactionKind.PAYMENT,
    )
    await ledger.reverse(key="undo", transaction_id=payment.id)
    assert (await ledger.account(shop.id)).posted == 0
    assert (await ledger.account(chart.alice.id)).posted == 1_000
    assert await delta_count(engine, shop) == 0
    assert (await verify_ledger(engine)).clean


async def test_holds_on_a_hot_account_use_the_row(
    ledger: Ledger, chart: Chart, engine: AsyncEngine
) -> None:
    shop = await open_shop(ledger)
    await fund(ledger, chart, chart.alice, "10.00", "fund")
    await pay(ledger, chart.alice, shop, "1.00", "pay")
    hold = await ledger.create_hold(
        key="hold",
        debit_account_id=chart.alice.id,
        credit_account_id=shop.id,
        amount=cny("5.00"),
        kind=TransactionKind.PAYMENT,
    )
    after_hold = await ledger.account(shop.id)
    assert (after_hold.posted, after_hold.pending_credits) == (100, 500)
    await ledger.post_hold(key="capture", hold_id=hold.id, amount=cny("2.00"))
    shop_now = await ledger.account(shop.id)
    assert (shop_now.posted, shop_now.pending_credits) == (300, 0)
    assert (await verify_ledger(engine)).clean


async def test_a_payment_does_not_wait_for_the_shops_row_lock(
    engine: AsyncEngine, backend: str
) -> None:
    """While a fold (or a refund) holds the shop's row, payments to it still commit."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer for the whole database: there are no row locks")
    ledger = Ledger(engine, clock=SystemClock())
    bank = await ledger.open_account(
        code="bank:B:CNY", kind="bank_settlement", normal_side=Side.DEBIT, may_go_negative=True
    )
    payer = await ledger.open_account(code="wallet:p:CNY", kind="wallet", normal_side=Side.CREDIT)
    shop = await open_shop(ledger)
    await ledger.transfer(
        key="fund", debit_account_id=bank.id, credit_account_id=payer.id, amount=Money(1_000)
    )
    async with engine.connect() as holder:
        await holder.execute(
            text("SELECT 1 FROM ledger_accounts WHERE id = :a FOR NO KEY UPDATE"), {"a": shop.id}
        )
        await asyncio.wait_for(
            ledger.transfer(
                key="pay", debit_account_id=payer.id, credit_account_id=shop.id, amount=Money(100)
            ),
            timeout=5,
        )
        await holder.rollback()
    assert (await ledger.account(shop.id)).posted == 100


@pytest.mark.slow
@pytest.mark.parametrize("group_commit", [False, True])
async def test_parallel_payments_and_refunds_on_one_shop(
    engine: AsyncEngine, group_commit: bool
) -> None:
    """32 payers pay one hot shop while refunds and folds run: nothing lost, never negative."""
    ledger = Ledger(engine, clock=SystemClock(), group_commit=group_commit, max_batch=32)
    await ledger.start()
    bank = await ledger.open_account(
        code="bank:B:CNY",
        kind="bank_settlement",
        normal_side=Side.DEBIT,
        may_go_negative=True,
        hot=True,
    )
    shop = await open_shop(ledger)
    payers = []
    for n in range(32):
        payer = await ledger.open_account(
            code=f"wallet:{n}:CNY", kind="wallet", normal_side=Side.CREDIT
        )
        await ledger.transfer(
            key=f"fund-{n}", debit_account_id=bank.id, credit_account_id=payer.id, amount=Money(500)
        )
        payers.append(payer)
    outcomes: Counter[str] = Counter()

    async def payer_task(n: int) -> None:
        for k in range(10):
            await ledger.transfer(
                key=f"pay-{n}-{k}",
                debit_account_id=payers[n].id,
                credit_account_id=shop.id,
                amount=Money(50),
            )
            outcomes["paid"] += 1

    async def refunder(n: int) -> None:
        for k in range(15):
            try:
                await ledger.transfer(
                    key=f"refund-{n}-{k}",
                    debit_account_id=shop.id,
                    credit_account_id=payers[n].id,
                    amount=Money(120),
                )
                outcomes["refunded"] += 1
            except InsufficientBalanceError:
                outcomes["refused"] += 1
            await asyncio.sleep(0)

    async def folder() -> None:
        for _ in range(10):
            await ledger.fold_balance_deltas()
            await asyncio.sleep(0.01)

    await asyncio.gather(
        *(payer_task(n) for n in range(32)), *(refunder(n) for n in range(4)), folder()
    )
    await ledger.aclose()
    assert outcomes["paid"] == 320
    assert outcomes["refunded"] > 0
    shop_balance = (await ledger.account(shop.id)).posted
    assert shop_balance == 320 * 50 - outcomes["refunded"] * 120
    assert shop_balance >= 0
    payers_total = sum([(await ledger.account(p.id)).posted for p in payers])
    assert payers_total + shop_balance == 32 * 500
    await ledger.fold_balance_deltas()
    assert await cached_posted(engine, shop) == shop_balance
    report = await verify_ledger(engine)
    assert report.clean, report.violations


async def test_the_fold_command_and_the_background_loop(
    ledger: Ledger,
    chart: Chart,
    engine: AsyncEngine,
    clock: FrozenClock,
    database_url: str,
    tmp_path: Path,
) -> None:
    shop = await open_shop(ledger)
    await fund(ledger, chart, chart.alice, "10.00", "fund")
    await pay(ledger, chart.alice, shop, "1.00", "pay-1")
    await pay(ledger, chart.alice, shop, "2.00", "pay-2")
    env = {"EWALLET_DATABASE_URL": database_url, "EWALLET_VAR_DIR": str(tmp_path / "var")}
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["ledger", "fold"], env=env, catch_exceptions=False
    )
    assert (result.exit_code, result.output) == (0, "folded 2 balance deltas\n")
    assert await cached_posted(engine, shop) == 300

    await pay(ledger, chart.alice, shop, "3.00", "pay-3")
    # The same loop expires holds whose time ran out, giving back what they reserved.
    hold = await ledger.create_hold(
        key="hold",
        debit_account_id=chart.alice.id,
        credit_account_id=shop.id,
        amount=cny("1.00"),
        kind=TransactionKind.PAYMENT,
        expires_at=clock.now() + timedelta(minutes=5),
    )
    clock.advance(timedelta(minutes=6))
    async with upkeep_in_background(ledger, interval=0.05):
        for _ in range(100):
            expired = await ledger.hold(hold.id)
            if await delta_count(engine, shop) == 0 and expired and expired.status != "pending":
                break
            await asyncio.sleep(0.05)
    assert await delta_count(engine, shop) == 0
    assert await cached_posted(engine, shop) == 600
    expired = await ledger.hold(hold.id)
    assert expired is not None
    assert expired.status == HoldStatus.EXPIRED
    assert (await ledger.account(chart.alice.id)).available == 400
    assert (await verify_ledger(engine)).clean
