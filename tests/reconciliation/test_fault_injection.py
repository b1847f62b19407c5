"""Fault injection: 200+ mixed card top-ups and withdrawals against a misbehaving bank.

Twenty users each make a random sequence of top-ups and withdrawals through the HTTP API.
The amounts pick the sandbox bank's behaviours: plain approvals, declines, timeouts (the
bank commits nothing and answers too late), errors after the bank committed (a 500),
dropped connections after the commit, and slow answers. Then the grace period passes and
one reconciliation runs. Afterwards:

- nothing is left pending and the run found no mismatch;
- every movement in the bank's settlement file matches exactly one ledger transaction of
  the same amount, and every card top-up credit / withdrawal post in the ledger matches
  exactly one movement in the file: nothing charged twice, credited twice or lost;
- each bank settlement account holds exactly what the bank moved, suspense is empty, the
  card's balance at the bank moved by exactly what the wallet recorded, and
  ``ledger verify`` is clean.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta
from typing import Final

from sqlalchemy import select

from ewallet.ledger.verify import verify_ledger
from ewallet.models.ledger import LedgerTransaction
from ewallet.models.tables import topups, withdrawals
from ewallet.sandbox.bank import sandbox_bank_of
from ewallet.sandbox.bank.storage import balance_of
from tests.fixtures.accounts import TestUser
from tests.fixtures.withdrawals import ICBC, Withdrawing
from tests.reconciliation.helpers import business_day, reconcile, top_up

USERS: Final = 20
OPERATIONS_PER_USER: Final = 11  # 220 in all
SEED: Final = 20261126
# Fen endings choose the sandbox bank's behaviour (docs/sandbox.md); weights are per mille.
BEHAVIOURS: Final = {
    "approve": (None, 620),
    "timeout": (51, 50),
    "error_after_commit": (52, 120),
    "decline": (53, 60),
    "slow": (55, 50),
    "dropped": (56, 100),
}
ledger_transactions = LedgerTransaction.__table__


def amount_for(rng: random.Random, behaviour: str, *, withdrawal: bool) -> str:
    fen, _ = BEHAVIOURS[behaviour]
    yuan = rng.randint(1, 60) if withdrawal else rng.randint(20, 400)
    if fen is None:
        fen = rng.choice([0, 10, 25, 50, 75, 99])
    return f"{yuan}.{fen:02d}"


async def run_user(
    h: Withdrawing, user: TestUser, card_id: str, rng: random.Random, outcomes: Counter[str]
) -> None:
    names = list(BEHAVIOURS)
    weights = [BEHAVIOURS[name][1] for name in names]
    for index in range(OPERATIONS_PER_USER):
        behaviour = rng.choices(names, weights)[0]
        withdrawal = index > 1 and rng.random() < 0.4
        amount = amount_for(rng, behaviour, withdrawal=withdrawal)
        key = f"fault-{user.id}-{index}"
        if withdrawal:
            response = await h.withdraw(user, card_id, amount, key=key)
        else:
            response = await top_up(h, user, card_id, amount, key=key)
        # 201 done, 202 pending, 402 declined or not enough balance, and for a top-up 403
        # risk_declined (the card-testing rule, after three failures in the hour): all fair.
        fair = {201, 202, 402} if withdrawal else {201, 202, 402, 403}
        assert response.status_code in fair, response.text
        kind = "withdrawal" if withdrawal else "topup"
        outcomes[f"{kind}:{behaviour}:{response.status_code}"] += 1


async def test_mixed_faults_reconcile_to_an_exact_match(withdrawing: Withdrawing) -> None:
    h = withdrawing
    rng = random.Random(SEED)
    customers = [
        await h.customer(f"+86139{index:08d}", ICBC, "0.00") for index in range(1, USERS + 1)
    ]
    assert h.app is not None
    bank = sandbox_bank_of(h.app.state.sandbox_bank)
    async with bank.store.reading() as conn:
        card_before = await balance_of(conn, ICBC.number)
    outcomes: Counter[str] = Counter()
    await asyncio.gather(
        *(
            run_user(h, user, card_id, random.Random(rng.random()), outcomes)
            for user, card_id in customers
        )
    )
    assert sum(outcomes.values()) == USERS * OPERATIONS_PER_USER >= 200
    assert {name.split(":")[1] for name in outcomes} == set(BEHAVIOURS), outcomes
    assert any(":202" in name for name in outcomes), outcomes  # faults did happen

    h.clock.advance(timedelta(minutes=31))  # past the grace period for unseen requests
    run, items = await reconcile(h, psp=False)
    assert run.counts["mismatches"] == 0, [(i.category, i.reference, i.detail) for i in items]

    async with h.engine.connect() as conn:
        open_topups = await conn.execute(select(topups.c.id).where(topups.c.status == "pending"))
        open_withdrawals = await conn.execute(
            select(withdrawals.c.id).where(withdrawals.c.status.in_(("pending", "processing")))
        )
        assert open_topups.all() == []
        assert open_withdrawals.all() == []
        keys = dict(
            (
                await conn.execute(
                    select(ledger_transactions.c.idempotency_key, ledger_transactions.c.metadata)
                )
            ).all()
        )
        succeeded_topups = dict(
            (
                await conn.execute(
                    select(topups.c.id, topups.c.amount).where(topups.c.status == "succeeded")
                )
            ).all()
        )
        succeeded_withdrawals = dict(
            (
                await conn.execute(
                    select(withdrawals.c.id, withdrawals.c.amount).where(
                        withdrawals.c.status == "succeeded"
                    )
                )
            ).all()
        )

    rows = await h.gateway.settlement(business_day(h))
    request_ids = [row.request_id for row in rows]
    assert len(request_ids) == len(set(request_ids))  # the bank moved each request once
    bank_topups = {
        row.request_id.removeprefix("topup:"): row.amount.minor
        for row in rows
        if row.request_id.startswith("topup:")
    }
    bank_withdrawals = {
        row.request_id.removeprefix("withdrawal:"): row.amount.minor
        for row in rows
        if row.request_id.startswith("withdrawal:")
    }
    # Exactly the bank's movements, no more and no fewer, with the same amounts.
    assert bank_topups == succeeded_topups
    assert bank_withdrawals == succeeded_withdrawals
    for topup_id in bank_topups:
        assert f"topup:{topup_id}" in keys
    for withdrawal_id in bank_withdrawals:
        assert f"withdrawal:{withdrawal_id}:post" in keys
    credited = [key for key in keys if key.startswith("topup:") and key.count(":") == 1]
    posted = [key for key in keys if key.startswith("withdrawal:") and key.endswith(":post")]
    assert len(credited) == len(bank_topups)
    assert len(posted) == len(bank_withdrawals)

    ledger = h.ledger
    settlement = await ledger.account_by_code("bank_settlement:ICBC:CNY")
    suspense = await ledger.account_by_code("suspense:CNY")
    assert settlement is not None
    assert suspense is not None
    moved_in = sum(bank_topups.values())
    moved_out = sum(bank_withdrawals.values())
    assert settlement.posted == moved_in - moved_out
    assert suspense.posted == 0
    async with bank.store.reading() as conn:
        card_after = await balance_of(conn, ICBC.number)
    assert card_before is not None
    assert card_after == card_before - moved_in + moved_out
    assert (await verify_ledger(h.engine)).clean
