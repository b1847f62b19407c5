"""Limit tests reuse the account-security harness and add money and tiers to its users."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, update

from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.models.identity import User
from tests.account_security.conftest import Harness, TestUser, clock, harness

__all__ = ["clock", "fund", "harness", "set_tier", "spend_in_ledger"]

users = cast(Table, User.__table__)


async def set_tier(harness: Harness, user: TestUser, tier: int, *, name: str | None = None) -> None:
    values: dict[str, object] = {"tier": tier}
    if name is not None:
        values["real_name_masked"] = name
    async with harness.engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == user.id).values(**values))


async def fund(harness: Harness, user: TestUser, amount: str, *, key: str | None = None) -> None:
    """Credit the wallet straight in the ledger (a top-up from a bank)."""
    ledger = Ledger(harness.engine, clock=harness.clock)
    bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    await ledger.transfer(
        key=key or f"fund-{user.id}-{amount}",
        debit_account_id=bank.id,
        credit_account_id=wallet.id,
        amount=Money.parse(amount),
        kind=TransactionKind.TOPUP,
    )


async def spend_in_ledger(
    harness: Harness, user: TestUser, amount: str, *, kind: str = TransactionKind.PAYMENT
) -> None:
    """A payment straight in the ledger: it counts toward the class allowance."""
    ledger = Ledger(harness.engine, clock=harness.clock)
    wallet = await chart.open_account(ledger, chart.wallet(user.id))
    merchant = await chart.open_account(ledger, chart.merchant("m-limits"))
    await ledger.transfer(
        key=f"spend-{user.id}-{amount}-{kind}",
        debit_account_id=wallet.id,
        credit_account_id=merchant.id,
        amount=Money.parse(amount),
        kind=kind,
    )
