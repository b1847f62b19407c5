"""The app's lifespan gives every request one group-committing ledger, closed on shutdown."""

from __future__ import annotations

import asyncio

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.deps import app_ledger
from ewallet.kit.metrics import LEDGER_TRANSACTIONS
from ewallet.kit.money import Money
from ewallet.ledger import Side, TransactionKind
from tests.fixtures.serving import serving


async def test_lifespan_ledger_commits_concurrent_transfers(settings: Settings) -> None:
    app = create_app(settings)
    async with serving(app) as client:
        ledger = app_ledger(app)
        bank = await ledger.open_account(
            code="bank:T:CNY", kind="bank_settlement", normal_side=Side.DEBIT, may_go_negative=True
        )
        wallet = await ledger.open_account(
            code="wallet:t:CNY", kind="wallet", normal_side=Side.CREDIT
        )
        before = LEDGER_TRANSACTIONS.labels(TransactionKind.TOPUP)._value.get()
        results = await asyncio.gather(
            *(
                ledger.transfer(
                    key=f"k{n}",
                    debit_account_id=bank.id,
                    credit_account_id=wallet.id,
                    amount=Money(100),
                    kind=TransactionKind.TOPUP,
                )
                for n in range(20)
            )
        )
        assert len({r.id for r in results}) == 20
        assert (await ledger.account(wallet.id)).posted == 2_000
        metrics = (await client.get("/metrics")).text
        assert 'ewallet_ledger_transactions_total{kind="topup"}' in metrics
        assert LEDGER_TRANSACTIONS.labels(TransactionKind.TOPUP)._value.get() == before + 20
