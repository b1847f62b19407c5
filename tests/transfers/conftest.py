"""Transfer tests: the account-security harness plus money, names and a transfer call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.ledger import Ledger, chart
from ewallet.models.ledger import LedgerPosting, LedgerTransaction
from ewallet.models.spending import SpendRecord
from ewallet.models.transfers import Transfer
from ewallet.security.context import SecurityContext
from tests.account_security.conftest import PIN, Harness, TestUser, clock, fast, harness, make_app
from tests.http.conftest import serving
from tests.limits.conftest import fund, set_tier

__all__ = [
    "clock",
    "custom_harness",
    "fund",
    "harness",
    "money_snapshot",
    "set_tier",
    "transfer",
]

transfers = cast(Table, Transfer.__table__)
spend_records = cast(Table, SpendRecord.__table__)
ledger_transactions = cast(Table, LedgerTransaction.__table__)
ledger_postings = cast(Table, LedgerPosting.__table__)


async def transfer(
    harness: Harness,
    user: TestUser,
    to_phone: str,
    amount: Any,
    *,
    pin: str = PIN,
    key: str | None = None,
    memo: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"to_phone": to_phone, "amount": amount, "payment_password": pin}
    if memo is not None:
        body["memo"] = memo
    return await harness.client.post(
        "/v1/transfers",
        json=body,
        headers=harness.auth(user, **{"Idempotency-Key": key or f"t-{to_phone}-{amount}-{pin}"}),
    )


async def balance(harness: Harness, user: TestUser) -> int:
    account = await Ledger(harness.engine, clock=harness.clock).account_by_code(
        chart.wallet(user.id).code
    )
    return 0 if account is None else account.posted


async def money_snapshot(harness: Harness, *people: TestUser) -> dict[str, Any]:
    """Balances, transfer rows, spend records and ledger rows: equal = no money moved."""
    async with harness.engine.connect() as conn:
        counts = {
            table.name: await conn.scalar(select(func.count()).select_from(table))
            for table in (transfers, spend_records, ledger_transactions, ledger_postings)
        }
    return {
        **counts,
        "balances": [await balance(harness, person) for person in people],
        "people": [await harness.snapshot(person) for person in people],
    }


@asynccontextmanager
async def custom_harness(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, **overrides: Any
) -> AsyncIterator[Harness]:
    """A harness whose app runs with some settings changed (limits, the PIN budget)."""
    quick = fast(settings).model_copy(update=overrides)
    async with serving(make_app(quick, clock)) as client:
        yield Harness(engine, quick, clock, SecurityContext.from_settings(quick), client)
