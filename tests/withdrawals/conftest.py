"""Withdrawal tests: the full app with its in-process sandbox bank, on SQLite and PostgreSQL.

Reuses the account-security harness (users made directly, tokens issued), binds sandbox
cards through the API and funds wallets straight in the ledger. The free quota is small
(¥100) and the bank timeout short, so every fee boundary and unknown outcome is quick.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.integrations.bank.wiring import gateway_from_app
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.models.funding import Withdrawal
from ewallet.sandbox.bank.cards import TEST_CARDS, SandboxCard
from ewallet.security.context import SecurityContext
from tests.account_security.conftest import PIN, Harness, TestUser, clock, fast, make_app
from tests.cards.test_binding import bind
from tests.funding.conftest import BANK_GIVE_UP_SECONDS, warm_sandbox_bank
from tests.http.conftest import serving

__all__ = [
    "CCB",
    "ICBC",
    "Withdrawing",
    "clock",
    "withdrawals",
    "withdrawing",
    "withdrawing_harness",
]

withdrawals = cast(Table, Withdrawal.__table__)
ICBC: SandboxCard = TEST_CARDS[0]
CCB: SandboxCard = TEST_CARDS[1]


@dataclass
class Withdrawing(Harness):
    app: FastAPI | None = None

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.engine, clock=self.clock)

    @property
    def gateway(self) -> Any:
        assert self.app is not None
        return gateway_from_app(self.app)

    async def customer(self, phone: str, card: SandboxCard, funds: str) -> tuple[TestUser, str]:
        """A user with a payment password, a bound ``card`` and ``funds`` in the wallet."""
        user = await self.user(phone=phone, pin=PIN)
        bound = await bind(self, user, card)
        if Decimal(funds) > 0:
            await self.fund(user, funds)
        return user, str(bound["id"])

    async def fund(self, user: TestUser, amount: str) -> None:
        ledger = self.ledger
        bank = await chart.open_account(ledger, chart.bank_settlement("FUNDING"))
        wallet = await chart.open_account(ledger, chart.wallet(user.id))
        await ledger.transfer(
            key=f"fund-{user.id}-{amount}",
            debit_account_id=bank.id,
            credit_account_id=wallet.id,
            amount=Money.parse(amount),
            kind=TransactionKind.TOPUP,
        )

    async def preview(self, user: TestUser, card_id: str, amount: str) -> httpx.Response:
        return await self.client.post(
            "/v1/withdrawals/preview",
            json={"card_id": card_id, "amount": amount},
            headers=self.auth(user),
        )

    async def withdraw(
        self,
        user: TestUser,
        card_id: str,
        amount: str,
        *,
        pin: str = PIN,
        key: str | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/withdrawals",
            json={"card_id": card_id, "amount": amount, "payment_password": pin},
            headers=self.auth(user, **{"Idempotency-Key": key or f"w-{card_id}-{amount}"}),
        )

    async def balance(self, user: TestUser) -> Decimal:
        response = await self.client.get("/v1/me/wallet", headers=self.auth(user))
        assert response.status_code == 200, response.text
        return Decimal(response.json()["balances"][0]["total"])

    async def posted(self, code: str) -> int:
        account = await self.ledger.account_by_code(code)
        return 0 if account is None else account.posted

    async def rows(self, user: TestUser) -> list[Any]:
        async with self.engine.connect() as conn:
            query = select(withdrawals).where(withdrawals.c.user_id == user.id)
            return list(await conn.execute(query))


@asynccontextmanager
async def withdrawing_harness(
    engine: AsyncEngine,
    settings: Settings,
    clock: FrozenClock,
    *,
    bank_timeout_seconds: float = BANK_GIVE_UP_SECONDS,
) -> AsyncIterator[Withdrawing]:
    """The running app with a small free quota; the bank given up on after the timeout."""
    quick = fast(settings).model_copy(
        update={
            "withdrawal_free_quota_minor": 100_00,
            "withdrawal_fee_rate": Decimal("0.001"),
            "withdrawal_min_fee_minor": 10,
            "bank_timeout_seconds": bank_timeout_seconds,
        }
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        await warm_sandbox_bank(app)
        security = SecurityContext.from_settings(quick)
        yield Withdrawing(engine, quick, clock, security, client, app)


@pytest.fixture
async def withdrawing(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Withdrawing]:
    async with withdrawing_harness(engine, settings, clock) as harness:
        yield harness
