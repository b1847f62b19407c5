"""Ledger fixtures: a ledger on the test database and a small chart of accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Account, Ledger, Side


@dataclass
class Chart:
    bank: Account
    alice: Account
    bob: Account
    merchant: Account


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def ledger(engine: AsyncEngine, clock: FrozenClock) -> AsyncIterator[Ledger]:
    ledger = Ledger(engine, clock=clock)
    await ledger.start()
    yield ledger
    await ledger.aclose()


async def open_wallet(ledger: Ledger, name: str) -> Account:
    return await ledger.open_account(
        code=f"wallet:{name}:CNY", kind="wallet", normal_side=Side.CREDIT
    )


@pytest.fixture
async def chart(ledger: Ledger) -> Chart:
    bank = await ledger.open_account(
        code="bank:ICBC:CNY", kind="bank_settlement", normal_side=Side.DEBIT, may_go_negative=True
    )
    return Chart(
        bank=bank,
        alice=await open_wallet(ledger, "alice"),
        bob=await open_wallet(ledger, "bob"),
        merchant=await ledger.open_account(
            code="merchant:m1:CNY", kind="merchant", normal_side=Side.CREDIT
        ),
    )


def cny(text: str) -> Money:
    return Money.parse(text)
