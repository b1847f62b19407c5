"""``ewallet ledger verify`` finds each kind of corruption, and only that kind.

A small, clean ledger is written through the ``Ledger`` API; then each case corrupts the
database directly with SQL so that exactly one invariant breaks (or, where the arithmetic
makes it unavoidable, the ones it implies) and asserts the report, the CLI's table and
its ``--json`` all name it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from typer.testing import CliRunner, Result

from ewallet.cli.main import app
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.engine import make_engine
from ewallet.ledger import (
    Account,
    Hold,
    HoldStatus,
    Ledger,
    Posting,
    Side,
    Transaction,
    TransactionKind,
)
from ewallet.ledger.verify import CHECKS, verify_ledger
from ewallet.models.tables import ledger_postings as postings
from ewallet.models.tables import ledger_transactions as transactions
from tests.ledger.conftest import Chart, cny

ALL_CHECKS = (*(name for name, _, _ in CHECKS), "ledger_balances")
OVERDRAFT_CHECK = "ck_ledger_accounts_available_non_negative"
MEANINGS = {
    **{name: meaning for name, meaning, _ in CHECKS},
    "ledger_balances": "all postings of the ledger sum to zero in each currency",
}
APPEND_ONLY_TABLES = ("ledger_postings", "ledger_transactions")


@dataclass(frozen=True, slots=True)
class Book:
    """What the clean ledger holds; every case corrupts some of it."""

    chart: Chart
    ccb: Account  # a second bank settlement account, negative after a withdrawal
    topup_alice: Transaction  # bank -> alice 100.00
    topup_bob: Transaction  # bank -> bob 50.00
    transfer: Transaction  # alice -> bob 30.00
    payment: Transaction  # alice -> merchant 5.00
    gift: Transaction  # bob -> alice 5.00, reversed
    reversal: Transaction  # reverses the gift
    posted_hold: Hold  # alice -> merchant 20.00, 12.00 posted
    capture: Transaction  # the posted hold's transaction
    voided_hold: Hold  # alice -> merchant 3.00, voided
    pending_hold: Hold  # alice -> merchant 10.00, pending
    withdrawal: Transaction  # alice -> ccb 8.00
    shop: Account  # a hot merchant account: credited through balance deltas
    shop_sale: Transaction  # alice -> shop 4.00, a delta
    shop_refund: Transaction  # shop -> alice 1.00: locks the shop, folds the sale
    shop_sale_2: Transaction  # bob -> shop 2.00, a delta left unfolded


async def write_book(ledger: Ledger, chart: Chart) -> Book:
    ccb = await ledger.open_account(
        code="bank:CCB:CNY", kind="bank_settlement", normal_side=Side.DEBIT, may_go_negative=True
    )

    async def move(
        key: str, debit: Account, credit: Account, amount: str, kind: str
    ) -> Transaction:
        return await ledger.transfer(
            key=key,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=cny(amount),
            kind=kind,
        )

    async def hold(key: str, amount: str) -> Hold:
        return await ledger.create_hold(
            key=key,
            debit_account_id=chart.alice.id,
            credit_account_id=chart.merchant.id,
            amount=cny(amount),
            kind=TransactionKind.PAYMENT,
        )

    topup_alice = await move("topup-a", chart.bank, chart.alice, "100.00", TransactionKind.TOPUP)
    topup_bob = await move("topup-b", chart.bank, chart.bob, "50.00", TransactionKind.TOPUP)
    transfer = await move("transfer", chart.alice, chart.bob, "30.00", TransactionKind.TRANSFER)
    payment = await move("payment", chart.alice, chart.merchant, "5.00", TransactionKind.PAYMENT)
    gift = await move("gift", chart.bob, chart.alice, "5.00", TransactionKind.TRANSFER)
    reversal = await ledger.reverse(key="undo-gift", transaction_id=gift.id)
    posted_hold = await hold("hold-posted", "20.00")
    capture = await ledger.post_hold(key="capture", hold_id=posted_hold.id, amount=cny("12.00"))
    voided_hold = await ledger.void_hold((await hold("hold-voided", "3.00")).id)
    pending_hold = await hold("hold-pending", "10.00")
    withdrawal = await move("withdraw", chart.alice, ccb, "8.00", TransactionKind.WITHDRAWAL)
    shop = await ledger.open_account(
        code="merchant:shop:CNY", kind="merchant", normal_side=Side.CREDIT, hot=True
    )
    shop_sale = await move("shop-sale", chart.alice, shop, "4.00", TransactionKind.PAYMENT)
    shop_refund = await move("shop-refund", shop, chart.alice, "1.00", TransactionKind.REFUND)
    shop_sale_2 = await move("shop-sale-2", chart.bob, shop, "2.00", TransactionKind.PAYMENT)
    return Book(
        chart=chart,
        ccb=ccb,
        topup_alice=topup_alice,
        topup_bob=topup_bob,
        transfer=transfer,
        payment=payment,
        gift=gift,
        reversal=reversal,
        posted_hold=posted_hold,
        capture=capture,
        voided_hold=voided_hold,
        pending_hold=pending_hold,
        withdrawal=withdrawal,
        shop=shop,
        shop_sale=shop_sale,
        shop_refund=shop_refund,
        shop_sale_2=shop_sale_2,
    )


def posting_of(transaction: Transaction, account: Account) -> Posting:
    (found,) = (p for p in transaction.postings if p.account_id == account.id)
    return found


# ---------------------------------------------------------------------- tampering


@asynccontextmanager
async def tampering(
    database_url: str, *, lift_overdraft_check: bool
) -> AsyncIterator[AsyncConnection]:
    """One transaction in which the append-only triggers are out of the way.

    They are back before it commits (DDL is transactional on both backends), so nothing
    outside this transaction ever sees them gone, even if the corruption fails. With
    ``lift_overdraft_check`` the accounts' CHECK that mirrors ``no_overdraft`` is lifted
    too: on SQLite for this connection only, on PostgreSQL it comes back ``NOT VALID``
    and :func:`revalidate_overdraft_check` must run once the test is done.
    """
    engine = make_engine(database_url, pool_size=1)  # its own: the PRAGMA dies with it
    try:
        async with engine.begin() as conn:
            unguarded = _sqlite_unguarded if conn.dialect.name == "sqlite" else _postgres_unguarded
            async with unguarded(conn, lift_overdraft_check=lift_overdraft_check):
                yield conn
    finally:
        await engine.dispose()


@asynccontextmanager
async def _sqlite_unguarded(
    conn: AsyncConnection, *, lift_overdraft_check: bool
) -> AsyncIterator[None]:
    triggers = (
        await conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name IN ('ledger_postings', 'ledger_transactions')"
            )
        )
    ).all()
    assert len(triggers) == 4
    for name, _ in triggers:
        await conn.execute(text(f'DROP TRIGGER "{name}"'))
    if lift_overdraft_check:
        await conn.execute(text("PRAGMA ignore_check_constraints = ON"))
    yield
    for _, sql in triggers:  # re-created exactly as the migration made them
        await conn.execute(text(sql))


@asynccontextmanager
async def _postgres_unguarded(
    conn: AsyncConnection, *, lift_overdraft_check: bool
) -> AsyncIterator[None]:
    for table in APPEND_ONLY_TABLES:
        await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
    if lift_overdraft_check:
        found = await conn.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"),
            {"name": OVERDRAFT_CHECK},
        )
        definition = found.scalar_one()
        await conn.execute(text(f"ALTER TABLE ledger_accounts DROP CONSTRAINT {OVERDRAFT_CHECK}"))
    yield
    if lift_overdraft_check:
        await conn.execute(
            text(
                f"ALTER TABLE ledger_accounts ADD CONSTRAINT {OVERDRAFT_CHECK}"
                f" {definition} NOT VALID"
            )
        )
    for table in APPEND_ONLY_TABLES:
        await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))


async def revalidate_overdraft_check(engine: AsyncEngine) -> None:
    """PostgreSQL only: empty the ledger and make the lifted CHECK fully valid again."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE ledger_postings, ledger_transactions, ledger_holds, ledger_accounts"
                " RESTART IDENTITY CASCADE"
            )
        )
        await conn.execute(
            text(f"ALTER TABLE ledger_accounts VALIDATE CONSTRAINT {OVERDRAFT_CHECK}")
        )
        validated = await conn.execute(
            text("SELECT convalidated FROM pg_constraint WHERE conname = :name"),
            {"name": OVERDRAFT_CHECK},
        )
        assert validated.scalar_one() is True


async def execute(conn: AsyncConnection, sql: str, **params: Any) -> None:
    result = await conn.execute(text(sql), params)
    assert result.rowcount == 1, sql  # every corruption touches exactly one row


async def last_balance_after(conn: AsyncConnection, account: Account) -> int:
    found = await conn.execute(
        text(
            "SELECT balance_after FROM ledger_postings WHERE account_id = :a"
            " ORDER BY id DESC LIMIT 1"
        ),
        {"a": account.id},
    )
    return int(found.scalar_one())


async def append_posting(
    conn: AsyncConnection, account: Account, transaction_id: str, amount: int
) -> None:
    """Append a posting (debit positive) to ``account``, keeping its cache and chain right."""
    direction = 1 if account.normal_side is Side.DEBIT else -1
    balance = await last_balance_after(conn, account) + direction * amount
    await conn.execute(
        insert(postings).values(
            transaction_id=transaction_id,
            account_id=account.id,
            amount=amount,
            currency="CNY",
            balance_after=balance,
            created_at=FrozenClock().now(),
        )
    )
    await execute(
        conn, "UPDATE ledger_accounts SET posted = :b WHERE id = :id", b=balance, id=account.id
    )


async def add_transaction(conn: AsyncConnection, transaction_id: str) -> None:
    await conn.execute(
        insert(transactions).values(
            id=transaction_id,
            kind=TransactionKind.ADJUSTMENT.value,
            idempotency_key=f"forged-{transaction_id}",
            request_hash="0" * 64,
            metadata={},
            created_at=FrozenClock().now(),
        )
    )


# ------------------------------------------------------------------------- the cases


async def shift_a_fen_between_transactions(conn: AsyncConnection, book: Book) -> None:
    # Alice's postings in the transfer and the payment are consecutive in her chain: move
    # one fen from one to the other and fix the first balance_after, so her total, her
    # chain and the ledger's total all still add up; only the two transactions do not.
    alice = book.chart.alice
    first, second = posting_of(book.transfer, alice), posting_of(book.payment, alice)
    await execute(
        conn,
        "UPDATE ledger_postings SET amount = amount + 1, balance_after = balance_after - 1"
        " WHERE id = :id",
        id=first.id,
    )
    await execute(
        conn, "UPDATE ledger_postings SET amount = amount - 1 WHERE id = :id", id=second.id
    )


async def append_unbalanced_posting(conn: AsyncConnection, book: Book) -> None:
    await append_posting(conn, book.chart.bank, book.topup_bob.id, 100)


async def forge_empty_transaction(conn: AsyncConnection, book: Book) -> None:
    await add_transaction(conn, "forgedempty")


async def forge_one_posting_transaction(conn: AsyncConnection, book: Book) -> None:
    await add_transaction(conn, "forgedsingle")
    await append_posting(conn, book.chart.bank, "forgedsingle", 100)


async def move_a_transaction_to_usd(conn: AsyncConnection, book: Book) -> None:
    # Both legs, so the transaction and the ledger still balance (in USD).
    result = await conn.execute(
        text("UPDATE ledger_postings SET currency = 'USD' WHERE transaction_id = :t"),
        {"t": book.transfer.id},
    )
    assert result.rowcount == 2


async def inflate_cached_posted(conn: AsyncConnection, book: Book) -> None:
    await execute(
        conn, "UPDATE ledger_accounts SET posted = posted + 1 WHERE id = :id", id=book.chart.bob.id
    )


async def bend_balance_after(conn: AsyncConnection, book: Book) -> None:
    bob_leg = posting_of(book.transfer, book.chart.bob)
    await execute(
        conn,
        "UPDATE ledger_postings SET balance_after = balance_after + 1 WHERE id = :id",
        id=bob_leg.id,
    )


async def forbid_negative_on_an_overdrawn_account(conn: AsyncConnection, book: Book) -> None:
    await execute(
        conn, "UPDATE ledger_accounts SET may_go_negative = false WHERE id = :id", id=book.ccb.id
    )


async def forget_pending_debits(conn: AsyncConnection, book: Book) -> None:
    await execute(
        conn, "UPDATE ledger_accounts SET pending_debits = 0 WHERE id = :id", id=book.chart.alice.id
    )


async def forget_pending_credits(conn: AsyncConnection, book: Book) -> None:
    await execute(
        conn,
        "UPDATE ledger_accounts SET pending_credits = 0 WHERE id = :id",
        id=book.chart.merchant.id,
    )


async def mark_voided_hold_posted(conn: AsyncConnection, book: Book) -> None:
    await execute(
        conn,
        "UPDATE ledger_holds SET status = 'posted', posted_amount = amount WHERE id = :id",
        id=book.voided_hold.id,
    )


async def misstate_posted_amount(conn: AsyncConnection, book: Book) -> None:
    await execute(
        conn,
        "UPDATE ledger_holds SET posted_amount = posted_amount - 1 WHERE id = :id",
        id=book.posted_hold.id,
    )


async def attach_transaction_to_pending_hold(conn: AsyncConnection, book: Book) -> None:
    await execute(
        conn,
        "UPDATE ledger_transactions SET hold_id = :h WHERE id = :id",
        h=book.pending_hold.id,
        id=book.payment.id,
    )


async def point_reversal_at_another_transaction(conn: AsyncConnection, book: Book) -> None:
    # The payment moves the same 5.00 but between other accounts: the totals still match,
    # the account-by-account mirror does not.
    await execute(
        conn,
        "UPDATE ledger_transactions SET reverses_id = :other WHERE id = :id",
        other=book.payment.id,
        id=book.reversal.id,
    )


async def drop_a_cold_balance_after(conn: AsyncConnection, book: Book) -> None:
    bob_leg = posting_of(book.transfer, book.chart.bob)
    await execute(
        conn, "UPDATE ledger_postings SET balance_after = NULL WHERE id = :id", id=bob_leg.id
    )


async def lose_an_unfolded_delta(conn: AsyncConnection, book: Book) -> None:
    await execute(conn, "DELETE FROM ledger_balance_deltas WHERE account_id = :a", a=book.shop.id)


async def park_a_delta_on_a_cold_account(conn: AsyncConnection, book: Book) -> None:
    # Moved from bob's cached balance into a delta: his balance still adds up, but a cold
    # account's balance must live on its row alone.
    bob = book.chart.bob
    await execute(
        conn, "UPDATE ledger_accounts SET posted = posted - 100 WHERE id = :id", id=bob.id
    )
    await execute(
        conn,
        "INSERT INTO ledger_balance_deltas (account_id, amount, created_at)"
        " SELECT :a, 100, created_at FROM ledger_accounts WHERE id = :a",
        a=bob.id,
    )


Corrupt = Callable[[AsyncConnection, Book], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Case:
    corrupt: Corrupt
    violations: dict[str, int]  # check -> violating rows
    lifts_overdraft_check: bool = False


CASES = {
    "transaction_balances": Case(shift_a_fen_between_transactions, {"transaction_balances": 2}),
    "ledger_balances": Case(
        # The ledger's total is the sum of its transactions' totals: both break together.
        append_unbalanced_posting,
        {"transaction_balances": 1, "ledger_balances": 1},
    ),
    "transaction_has_two_postings-none": Case(
        forge_empty_transaction, {"transaction_has_two_postings": 1}
    ),
    "transaction_has_two_postings-one": Case(
        forge_one_posting_transaction,
        {"transaction_has_two_postings": 1, "transaction_balances": 1, "ledger_balances": 1},
    ),
    "posting_currency": Case(move_a_transaction_to_usd, {"posting_currency": 2}),
    "cached_posted_balance": Case(inflate_cached_posted, {"cached_posted_balance": 1}),
    "cached_posted_balance-lost-delta": Case(lose_an_unfolded_delta, {"cached_posted_balance": 1}),
    "balance_after_chain": Case(bend_balance_after, {"balance_after_chain": 1}),
    "balance_after_chain-missing": Case(drop_a_cold_balance_after, {"balance_after_chain": 1}),
    "deltas_only_on_hot_accounts": Case(
        park_a_delta_on_a_cold_account, {"deltas_only_on_hot_accounts": 1}
    ),
    "no_overdraft": Case(
        forbid_negative_on_an_overdrawn_account, {"no_overdraft": 1}, lifts_overdraft_check=True
    ),
    "pending_debits_match_holds": Case(forget_pending_debits, {"pending_debits_match_holds": 1}),
    "pending_credits_match_holds": Case(forget_pending_credits, {"pending_credits_match_holds": 1}),
    "posted_holds_have_one_transaction-no-transaction": Case(
        mark_voided_hold_posted, {"posted_holds_have_one_transaction": 1}
    ),
    "posted_holds_have_one_transaction-wrong-amount": Case(
        misstate_posted_amount, {"posted_holds_have_one_transaction": 1}
    ),
    "posted_holds_have_one_transaction-pending-with-transaction": Case(
        attach_transaction_to_pending_hold, {"posted_holds_have_one_transaction": 1}
    ),
    "reversals_mirror_originals": Case(
        point_reversal_at_another_transaction, {"reversals_mirror_originals": 1}
    ),
}


def test_every_check_has_a_case() -> None:
    named = {name.split("-")[0] for name in CASES}
    assert named == set(ALL_CHECKS)
    assert len(ALL_CHECKS) == len(set(ALL_CHECKS)) == 12


# --------------------------------------------------------------------------- the CLI


async def verify_cli(database_url: str, tmp_path: Path, *args: str, columns: int = 250) -> Result:
    env = {
        "EWALLET_DATABASE_URL": database_url,
        "EWALLET_VAR_DIR": str(tmp_path / "var"),
        # The report is plain lines: a narrow terminal must not cut names short.
        "COLUMNS": str(columns),
    }
    # A thread of its own: the command runs its own event loop, as from a shell.
    return await asyncio.to_thread(
        CliRunner().invoke, app, ["ledger", "verify", *args], env=env, catch_exceptions=False
    )


async def test_a_clean_ledger_verifies(
    ledger: Ledger, chart: Chart, engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    book = await write_book(ledger, chart)
    balances = {}
    for account in (chart.bank, chart.alice, chart.bob, chart.merchant, book.ccb, book.shop):
        found = await ledger.account(account.id)
        balances[found.code] = (found.posted, found.pending_debits, found.pending_credits)
    assert balances == {
        "bank:ICBC:CNY": (15000, 0, 0),
        "wallet:alice:CNY": (4200, 1000, 0),
        "wallet:bob:CNY": (7800, 0, 0),
        "merchant:m1:CNY": (1700, 0, 1000),
        "bank:CCB:CNY": (-800, 0, 0),
        "merchant:shop:CNY": (500, 0, 0),  # 3.00 folded on its row, 2.00 still a delta
    }
    holds = [
        await ledger.hold(h.id) for h in (book.posted_hold, book.voided_hold, book.pending_hold)
    ]
    assert [(h.status, h.posted_amount) for h in holds if h is not None] == [
        (HoldStatus.POSTED, cny("12.00")),
        (HoldStatus.VOIDED, None),
        (HoldStatus.PENDING, None),
    ]
    assert (book.capture.hold_id, book.reversal.reverses_id) == (book.posted_hold.id, book.gift.id)

    report = await verify_ledger(engine)

    assert (report.clean, report.violations, report.checks_run) == (True, [], 12)
    assert report.totals == {"CNY": 0}

    plain = await verify_cli(database_url, tmp_path)
    assert (plain.exit_code, plain.output) == (0, "ledger clean: 12 checks passed\n")
    as_json = await verify_cli(database_url, tmp_path, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == {
        "clean": True,
        "checks_run": 12,
        "totals": {"CNY": 0},
        "violations": [],
    }


@pytest.mark.parametrize("case_name", list(CASES))
async def test_verify_names_the_broken_invariant(
    case_name: str,
    ledger: Ledger,
    chart: Chart,
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
) -> None:
    case = CASES[case_name]
    book = await write_book(ledger, chart)
    assert (await verify_ledger(engine)).clean

    async with tampering(database_url, lift_overdraft_check=case.lifts_overdraft_check) as conn:
        await case.corrupt(conn, book)
    try:
        report = await verify_ledger(engine)
        plain = await verify_cli(database_url, tmp_path)
        as_json = await verify_cli(database_url, tmp_path, "--json")
    finally:
        if case.lifts_overdraft_check and engine.dialect.name == "postgresql":
            await revalidate_overdraft_check(engine)

    assert not report.clean
    assert report.checks_run == 12
    assert {v.check: v.count for v in report.violations} == case.violations
    for violation in report.violations:
        assert len(violation.rows) == violation.count
        assert violation.meaning == MEANINGS[violation.check]

    assert plain.exit_code == 1, plain.output
    assert plain.output.startswith(f"ledger NOT clean: {len(case.violations)} of 12 checks")
    for check in ALL_CHECKS:
        assert (f"FAILED {check} (" in plain.output) == (check in case.violations), check

    assert as_json.exit_code == 1, as_json.output
    document = json.loads(as_json.output)
    assert document["clean"] is False
    assert document["checks_run"] == 12
    assert {v["check"]: v["count"] for v in document["violations"]} == case.violations
    assert [v["meaning"] for v in document["violations"]] == [v.meaning for v in report.violations]


async def test_append_only_triggers_survive_tampering(
    ledger: Ledger, chart: Chart, engine: AsyncEngine, database_url: str
) -> None:
    book = await write_book(ledger, chart)
    async with tampering(database_url, lift_overdraft_check=False) as conn:
        await inflate_cached_posted(conn, book)

    for statement in (
        "UPDATE ledger_postings SET amount = amount",
        "DELETE FROM ledger_transactions",
    ):
        with pytest.raises(IntegrityError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))


async def test_report_names_the_check_at_the_default_width(
    ledger: Ledger, chart: Chart, database_url: str, tmp_path: Path
) -> None:
    book = await write_book(ledger, chart)
    async with tampering(database_url, lift_overdraft_check=False) as conn:
        await mark_voided_hold_posted(conn, book)

    plain = await verify_cli(database_url, tmp_path, columns=80)

    assert plain.exit_code == 1
    assert "posted_holds_have_one_transaction" in plain.output


async def split_the_captured_debit(conn: AsyncConnection, book: Book) -> None:
    # A second, balanced pair of legs in the capture: alice pays one fen more than the
    # hold says was posted; every balance, chain and total is kept right.
    await append_posting(conn, book.chart.alice, book.capture.id, 1)
    await append_posting(conn, book.chart.merchant, book.capture.id, -1)


async def test_a_capture_with_two_debit_legs_is_reported(
    ledger: Ledger, chart: Chart, engine: AsyncEngine, database_url: str
) -> None:
    book = await write_book(ledger, chart)
    async with tampering(database_url, lift_overdraft_check=False) as conn:
        await split_the_captured_debit(conn, book)

    report = await verify_ledger(engine)

    assert {v.check: v.count for v in report.violations} == {"posted_holds_have_one_transaction": 1}
