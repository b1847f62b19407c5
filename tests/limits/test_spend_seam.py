"""The spend seam (ewallet.spend.service) on both databases: what each outcome leaves behind.

An allowed spend books the feature's ledger command and counts the spend; a spend risk
wants reviewed books a hold of the same amount instead and says so (``Held``); a spend a
limit refuses leaves nothing at all.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.money import Money
from ewallet.ledger import Hold, Ledger, Transaction, TransactionKind, chart, transfer
from ewallet.models.tables import ledger_holds, ledger_transactions
from ewallet.models.tables import spend_records as records
from ewallet.risk.decisions import Decision, SpendFacts, Verdict
from ewallet.risk.spending import AuthStrength, LimitExceededError, SpendChannel, SpendingPolicy
from ewallet.spend import service as seam
from ewallet.spend.service import (
    Held,
    SpendRequest,
    SpendUnderReviewError,
    Spent,
    expect_spent,
    spend_from_wallet,
)
from tests.fixtures.accounts import Harness, TestUser
from tests.fixtures.limits import fund, set_tier

POLICY = SpendingPolicy.defaults()


async def count(harness: Harness, table: Any) -> int:
    async with harness.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def posted(harness: Harness, code: str) -> int:
    account = await Ledger(harness.engine, clock=harness.clock).account_by_code(code)
    return 0 if account is None else account.posted


async def spend(
    harness: Harness,
    user: TestUser,
    amount: str,
    *,
    policy: SpendingPolicy = POLICY,
    keeps_held: bool = False,
) -> Any:
    """Spend ``amount`` from the user's wallet to a merchant, through the seam."""
    ledger = Ledger(harness.engine, clock=harness.clock)
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    merchant = await chart.open_account(ledger, chart.merchant("m-seam"))
    money = Money.parse(amount)
    request = SpendRequest(
        user_id=user.id,
        amount=money,
        channel=SpendChannel.TRANSFER,
        auth=AuthStrength.PIN,
        reference=f"seam:{user.id}:{amount}",
        counterparty="m-seam",
    )
    command = transfer(
        key=request.reference,
        debit_account_id=wallet.id,
        credit_account_id=merchant.id,
        amount=money,
        kind=TransactionKind.TRANSFER,
    )

    async def work(uow: UnitOfWork) -> Any:
        return await spend_from_wallet(
            uow, request, command, clock=harness.clock, policy=policy, keeps_held=keeps_held
        )

    return await run_unit(harness.engine, work)


async def test_an_allowed_spend_books_the_command_and_counts(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await fund(harness, user, "100.00")
    result = await spend(harness, user, "30.00")
    assert isinstance(result, Spent)
    booked = expect_spent(result)
    assert isinstance(booked, Transaction)
    assert await posted(harness, chart.wallet(user.id).code) == 70_00
    assert await posted(harness, chart.merchant("m-seam").code) == 30_00
    assert await count(harness, records) == 1


async def test_a_spend_under_review_books_a_hold_and_says_held(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await fund(harness, user, "100.00")
    seen: list[SpendFacts] = []

    async def review(uow: UnitOfWork, facts: SpendFacts, **_: object) -> Decision:
        seen.append(facts)
        return Decision(Verdict.REVIEW, ("new_device",))

    monkeypatch.setattr(seam, "decide", review)
    transactions_before = await count(harness, ledger_transactions)
    result = await spend(harness, user, "30.00", keeps_held=True)
    assert isinstance(result, Held)
    assert isinstance(result.hold, Hold)
    assert result.decision.reasons == ("new_device",)
    assert [facts.counterparty for facts in seen] == ["m-seam"]
    # The money waits on a hold: nothing posted, the amount held back from the wallet.
    assert await count(harness, ledger_transactions) == transactions_before
    assert await count(harness, ledger_holds) == 1
    wallet = await Ledger(harness.engine, clock=harness.clock).account_by_code(
        chart.wallet(user.id).code
    )
    assert wallet is not None
    assert (wallet.posted, wallet.pending_debits) == (100_00, 30_00)
    assert await count(harness, records) == 1  # it still counts toward the limits
    with pytest.raises(SpendUnderReviewError):
        expect_spent(result)


async def test_a_refused_limit_leaves_nothing(harness: Harness) -> None:
    user = await harness.user()
    await set_tier(harness, user, 2)
    await fund(harness, user, "100.00")
    transactions_before = await count(harness, ledger_transactions)
    tight = replace(POLICY, per_transaction={SpendChannel.TRANSFER.value: 20_00})
    with pytest.raises(LimitExceededError) as caught:
        await spend(harness, user, "30.00", policy=tight)
    assert caught.value.extra["limit"] == "per_transaction"
    assert await count(harness, records) == 0
    assert await count(harness, ledger_transactions) == transactions_before
    assert await count(harness, ledger_holds) == 0
    assert await posted(harness, chart.wallet(user.id).code) == 100_00
