"""Hypothesis stateful test: the ledger against a plain in-memory model.

Random top-ups, transfers, holds, posts, voids, reversals, replays, key reuses and folds
of hot accounts' deltas; after every step each account's balances in the database equal
the model's, refused commands changed nothing, and money is conserved. The bank and the
last wallet are hot accounts (credited through balance deltas, without the row lock): the
model knows nothing of that, and must not need to. Every example works on accounts of its own, so
one migrated database serves the whole run; ``ledger verify`` checks it at the end.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.engine import make_engine
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, Side, TransactionKind
from ewallet.ledger.errors import (
    AlreadyReversedError,
    HoldNotPendingError,
    InsufficientBalanceError,
    InvalidEntryError,
    LedgerError,
    LedgerKeyReusedError,
)
from ewallet.ledger.verify import verify_ledger

WALLETS = 4
T = TypeVar("T")
_examples = itertools.count()


@dataclass
class ModelAccount:
    id: int
    normal: Side
    may_go_negative: bool
    posted: int = 0
    pending_debits: int = 0
    pending_credits: int = 0

    def available(self) -> int:
        return self.posted - (
            self.pending_debits if self.normal is Side.CREDIT else self.pending_credits
        )

    def post(self, signed: int) -> None:
        self.posted += signed if self.normal is Side.DEBIT else -signed


@dataclass
class ModelHold:
    id: str
    debit: int
    credit: int
    amount: int
    status: str = "pending"


@dataclass
class ModelTxn:
    id: str
    postings: list[tuple[int, int]]
    key: str
    request: tuple[int, int, int]
    # Hold posts carry the hold's key namespace; resending them as transfers means nothing.
    resendable: bool = True


@dataclass
class Model:
    accounts: dict[int, ModelAccount] = field(default_factory=dict)


amounts = st.integers(min_value=1, max_value=5_000)


def make_machine(database_url: str) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        holds = Bundle("holds")
        txns = Bundle("txns")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.engine = make_engine(database_url, pool_size=2)
            self.ledger = Ledger(self.engine, clock=FrozenClock())
            self.example = next(_examples)
            self.keys = itertools.count()
            self.model = Model()
            bank = self.run(
                self.ledger.open_account(
                    code=f"m{self.example}:bank",
                    kind="bank_settlement",
                    normal_side=Side.DEBIT,
                    may_go_negative=True,
                    hot=True,
                )
            )
            self.bank = bank.id
            self.model.accounts[bank.id] = ModelAccount(bank.id, Side.DEBIT, True)
            self.wallets = []
            for n in range(WALLETS):
                wallet = self.run(
                    self.ledger.open_account(
                        code=f"m{self.example}:w{n}",
                        kind="wallet",
                        normal_side=Side.CREDIT,
                        hot=n == WALLETS - 1,
                    )
                )
                self.wallets.append(wallet.id)
                self.model.accounts[wallet.id] = ModelAccount(wallet.id, Side.CREDIT, False)

        def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(coroutine)

        def teardown(self) -> None:
            self.run(self.engine.dispose())
            self.loop.close()

        def key(self) -> str:
            return f"m{self.example}:k{next(self.keys)}"

        def wallet(self, index: int) -> int:
            return self.wallets[index % WALLETS]

        def would_overdraw(self, changes: list[tuple[int, int]]) -> bool:
            """Apply signed postings to copies; refuse like the ledger does."""
            for account_id in {a for a, _ in changes}:
                account = self.model.accounts[account_id]
                copy = ModelAccount(**account.__dict__)
                for a, signed in changes:
                    if a == account_id:
                        copy.post(signed)
                if (
                    not copy.may_go_negative
                    and copy.available() < 0
                    and copy.available() < account.available()
                ):
                    return True
            return False

        def apply(self, changes: list[tuple[int, int]]) -> None:
            for account_id, signed in changes:
                self.model.accounts[account_id].post(signed)

        @rule(target=txns, wallet=st.integers(0, WALLETS - 1), amount=amounts)
        def topup(self, wallet: int, amount: int):  # type: ignore[no-untyped-def]
            key = self.key()
            target = self.wallet(wallet)
            txn = self.run(
                self.ledger.transfer(
                    key=key,
                    debit_account_id=self.bank,
                    credit_account_id=target,
                    amount=Money(amount),
                    kind=TransactionKind.TOPUP,
                )
            )
            changes = [(self.bank, amount), (target, -amount)]
            self.apply(changes)
            return ModelTxn(txn.id, changes, key, (self.bank, target, amount))

        @rule(
            target=txns,
            source=st.integers(0, WALLETS - 1),
            offset=st.integers(1, WALLETS - 1),
            amount=amounts,
        )
        def transfer(self, source: int, offset: int, amount: int):  # type: ignore[no-untyped-def]
            key = self.key()
            debit, credit = self.wallet(source), self.wallet(source + offset)
            changes = [(debit, amount), (credit, -amount)]
            expect_refusal = self.would_overdraw(changes)
            try:
                txn = self.run(
                    self.ledger.transfer(
                        key=key,
                        debit_account_id=debit,
                        credit_account_id=credit,
                        amount=Money(amount),
                    )
                )
            except InsufficientBalanceError:
                assert expect_refusal
                return None
            assert not expect_refusal
            self.apply(changes)
            return ModelTxn(txn.id, changes, key, (debit, credit, amount))

        @rule(txn=txns, change_amount=st.booleans())
        def resend(self, txn: ModelTxn | None, change_amount: bool) -> None:
            if txn is None or not txn.resendable:
                return
            debit, credit, amount = txn.request
            kind = TransactionKind.TOPUP if debit == self.bank else TransactionKind.TRANSFER
            try:
                again = self.run(
                    self.ledger.transfer(
                        key=txn.key,
                        debit_account_id=debit,
                        credit_account_id=credit,
                        amount=Money(amount + (1 if change_amount else 0)),
                        kind=kind,
                    )
                )
            except LedgerKeyReusedError:
                assert change_amount
                return
            assert not change_amount
            assert again.replayed
            assert again.id == txn.id

        @rule(target=holds, wallet=st.integers(0, WALLETS - 1), amount=amounts)
        def create_hold(self, wallet: int, amount: int):  # type: ignore[no-untyped-def]
            debit = self.wallet(wallet)
            account = self.model.accounts[debit]
            try:
                hold = self.run(
                    self.ledger.create_hold(
                        key=self.key(),
                        debit_account_id=debit,
                        credit_account_id=self.bank,
                        amount=Money(amount),
                        kind=TransactionKind.WITHDRAWAL,
                    )
                )
            except InsufficientBalanceError:
                assert account.available() < amount
                return None
            assert account.available() >= amount
            account.pending_debits += amount
            self.model.accounts[self.bank].pending_credits += amount
            return ModelHold(hold.id, debit, self.bank, amount)

        def release(self, hold: ModelHold) -> None:
            self.model.accounts[hold.debit].pending_debits -= hold.amount
            self.model.accounts[hold.credit].pending_credits -= hold.amount

        @rule(target=txns, hold=holds, fraction=st.integers(1, 100))
        def post_hold(self, hold: ModelHold | None, fraction: int):  # type: ignore[no-untyped-def]
            if hold is None:
                return None
            amount = max(1, hold.amount * fraction // 100)
            key = self.key()
            try:
                txn = self.run(
                    self.ledger.post_hold(key=key, hold_id=hold.id, amount=Money(amount))
                )
            except HoldNotPendingError:
                assert hold.status != "pending"
                return None
            assert hold.status == "pending"
            hold.status = "posted"
            self.release(hold)
            changes = [(hold.debit, amount), (hold.credit, -amount)]
            self.apply(changes)
            return ModelTxn(
                txn.id, changes, key, (hold.debit, hold.credit, amount), resendable=False
            )

        @rule(hold=holds)
        def void_hold(self, hold: ModelHold | None) -> None:
            if hold is None:
                return
            try:
                result = self.run(self.ledger.void_hold(hold.id))
            except HoldNotPendingError:
                assert hold.status == "posted"
                return
            if hold.status == "pending":
                assert not result.replayed
                hold.status = "voided"
                self.release(hold)
            else:
                assert hold.status == "voided"
                assert result.replayed

        @rule(txn=consumes(txns))
        def reverse(self, txn: ModelTxn | None) -> None:
            if txn is None:
                return
            changes = [(a, -signed) for a, signed in txn.postings]
            try:
                self.run(self.ledger.reverse(key=self.key(), transaction_id=txn.id))
            except (InsufficientBalanceError, AlreadyReversedError, InvalidEntryError) as error:
                if isinstance(error, InsufficientBalanceError):
                    assert self.would_overdraw(changes)
                return
            assert not self.would_overdraw(changes)
            self.apply(changes)

        @rule(wallet=st.integers(0, WALLETS - 1), amount=amounts)
        def refused_commands_change_nothing(self, wallet: int, amount: int) -> None:
            debit = self.wallet(wallet)
            too_much = self.model.accounts[debit].available() + amount
            with pytest.raises(LedgerError):
                self.run(
                    self.ledger.transfer(
                        key=self.key(),
                        debit_account_id=debit,
                        credit_account_id=self.wallet(wallet + 1),
                        amount=Money(too_much),
                    )
                )

        @rule()
        def fold(self) -> None:
            self.run(self.ledger.fold_balance_deltas())

        @invariant()
        def database_matches_model(self) -> None:
            for account_id, expected in self.model.accounts.items():
                actual = self.run(self.ledger.account(account_id))
                assert (actual.posted, actual.pending_debits, actual.pending_credits) == (
                    expected.posted,
                    expected.pending_debits,
                    expected.pending_credits,
                )

        @invariant()
        def money_is_conserved(self) -> None:
            bank = self.model.accounts[self.bank].posted
            assert bank == sum(self.model.accounts[w].posted for w in self.wallets)

    return LedgerMachine


def test_ledger_agrees_with_model(database_url: str) -> None:
    machine = make_machine(database_url)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

    async def check() -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            report = await verify_ledger(engine)
        finally:
            await engine.dispose()
        assert report.clean, report.violations

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(check())
    finally:
        loop.close()
