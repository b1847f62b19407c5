"""Reconciliation covers payouts: the bank's file against the wallet's settlements.

A payout whose answer was lost is posted from the file; a paid one is matched with its
ledger entry; a payout the wallet released although the bank paid needs a person.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.models.tables import reconciliation_items
from ewallet.reconciliation.service import run_reconciliation
from ewallet.settlement.service import fail_payout
from tests.settlement.conftest import CCB, FIRST_DAY, Settling, at

D1 = FIRST_DAY + timedelta(days=1)


async def _categories(settling: Settling, run_id: str) -> list[tuple[str, str]]:
    async with settling.engine.connect() as conn:
        rows = await conn.execute(
            select(reconciliation_items.c.reference, reconciliation_items.c.category).where(
                reconciliation_items.c.run_id == run_id
            )
        )
        return sorted((row.reference, row.category) for row in rows)


async def test_payouts_are_checked_against_the_bank_file(settling: Settling) -> None:
    lost = await settling.shop_with_account("Lost Answer")
    fine = await settling.shop_with_account("Fine", CCB)
    released = await settling.shop_with_account("Released")
    await settling.sale(lost.merchant.id, 20_56, 0, at(FIRST_DAY, 10))  # paid, answer dropped
    await settling.sale(fine.merchant.id, 30_00, 0, at(FIRST_DAY, 10))
    await settling.sale(released.merchant.id, 40_52, 0, at(FIRST_DAY, 10))  # paid, then a 500
    report = await settling.run(FIRST_DAY)
    assert len(report.pending) == 2
    assert len(report.paid) == 1
    (wrongly,) = await settling.rows(released.merchant.id)
    await fail_payout(settling.services, wrongly.id, "given up by hand")

    # The payouts happened at 02:00 of D+1, the bank's business day D+1.
    settling.clock.set(at(D1 + timedelta(days=1), 3))
    run = await run_reconciliation(settling.services, Actor.system(), day=D1, compare_psp=False)

    (posted,) = await settling.rows(lost.merchant.id)
    assert posted.status == "paid"
    assert await settling.available(lost.merchant.id) == 0
    found = dict(await _categories(settling, run.id))
    assert found == {
        f"payout:{posted.id}": "posted",
        f"payout:{wrongly.id}": "released_but_paid",
    }
    assert run.counts["matched"] == 1  # the fine payout: in the file, its ledger entry found
