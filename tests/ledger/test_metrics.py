"""Ledger entries made inside a feature's own unit of work reach ``/metrics`` on commit."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.metrics import LEDGER_TRANSACTIONS
from ewallet.ledger import Ledger, PostEntry, TransactionKind, apply_command, transfer
from tests.ledger.conftest import Chart, cny


def payments_counted() -> float:
    return float(LEDGER_TRANSACTIONS.labels(TransactionKind.PAYMENT)._value.get())


class AbandonedError(Exception):
    """Raised to roll a unit back after its ledger entry."""


async def test_an_entry_in_a_unit_is_counted_after_commit_only(
    ledger: Ledger, chart: Chart, engine: AsyncEngine, clock: FrozenClock
) -> None:
    await ledger.transfer(
        key="fund",
        debit_account_id=chart.bank.id,
        credit_account_id=chart.alice.id,
        amount=cny("9"),
    )

    def payment(key: str) -> PostEntry:
        return transfer(
            key=key,
            debit_account_id=chart.alice.id,
            credit_account_id=chart.merchant.id,
            amount=cny("1.00"),
            kind=TransactionKind.PAYMENT,
        )

    async def pay_then_abandon(uow: UnitOfWork) -> None:
        await apply_command(uow, payment("abandoned"), clock=clock)
        raise AbandonedError

    before = payments_counted()
    with pytest.raises(AbandonedError):
        await run_unit(engine, pay_then_abandon)
    assert payments_counted() == before

    async def pay(uow: UnitOfWork) -> None:
        await apply_command(uow, payment("kept"), clock=clock)

    await run_unit(engine, pay)
    assert payments_counted() == before + 1
