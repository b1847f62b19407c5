"""Bill tests: the full app with its in-process sandbox biller, on SQLite and PostgreSQL.

Reuses the account-security harness (users made directly, tokens issued) and funds wallets
straight in the ledger. The outbox is drained by hand (no embedded relay), the biller
timeout is short, and the sandbox's own records are read to assert what it received.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.bootstrap.outbox import outbox_registry
from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.ledger import Ledger, chart
from ewallet.models.tables import bill_payments, ledger_postings, ledger_transactions, spend_records
from ewallet.sandbox.biller import SandboxBiller, sandbox_biller_of
from ewallet.security.context import SecurityContext
from ewallet.worker import OutboxRelay
from tests.fixtures.accounts import PIN, Harness, TestUser, clock, fast, make_app
from tests.fixtures.limits import fund
from tests.fixtures.serving import serving

__all__ = [
    "ACCOUNTS",
    "PIN",
    "Billing",
    "bill_payments",
    "billing",
    "clock",
    "fund",
    "ledger_postings",
    "ledger_transactions",
    "spend_records",
]

# State Grid Beijing's test accounts (docs/bills.md): the last three digits choose.
ACCOUNTS = {
    "due": "1000000001",
    "nothing_due": "1000000000",
    "unknown": "1000000404",
    "timeout": "1000000408",
    "reject": "1000000403",
    "lose_first_answer": "1000000409",
}
BILLER_GIVE_UP_SECONDS = 1.5
RETRY_SECONDS = 30.0


@dataclass
class Billing(Harness):
    app: FastAPI | None = None

    @property
    def sandbox(self) -> SandboxBiller:
        assert self.app is not None
        return sandbox_biller_of(self.app.state.sandbox_biller)

    async def lookup(
        self, user: TestUser, account_no: str, biller_id: str = "sgcc_bj"
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/bills/lookup",
            json={"biller_id": biller_id, "account_no": account_no},
            headers=self.auth(user),
        )

    async def pay(
        self,
        user: TestUser,
        account_no: str,
        amount: Any,
        *,
        biller_id: str = "sgcc_bj",
        pin: str = PIN,
        key: str | None = None,
    ) -> httpx.Response:
        body = {
            "biller_id": biller_id,
            "account_no": account_no,
            "amount": amount,
            "payment_password": pin,
        }
        idempotency = key or f"b-{biller_id}-{account_no}-{amount}-{pin}"
        return await self.client.post(
            "/v1/bill-payments",
            json=body,
            headers=self.auth(user, **{"Idempotency-Key": idempotency}),
        )

    async def posted(self, code: str) -> int:
        account = await Ledger(self.engine, clock=self.clock).account_by_code(code)
        return 0 if account is None else account.posted

    async def balance(self, user: TestUser) -> int:
        return await self.posted(chart.wallet(user.id).code)

    async def payable(self, biller_id: str = "sgcc_bj") -> int:
        return await self.posted(chart.biller_payable(biller_id).code)

    async def money_snapshot(self, user: TestUser) -> dict[str, Any]:
        """Balances, rows, spend records, ledger rows and the biller's books."""
        async with self.engine.connect() as conn:
            counts = {
                table.name: await conn.scalar(select(func.count()).select_from(table))
                for table in (bill_payments, spend_records, ledger_transactions, ledger_postings)
            }
        person = await self.snapshot(user)
        # When the last PIN check started is bookkeeping of the check, not a change a
        # refused payment made (the failure count and the lock are compared).
        person["user"].pop("payment_checks_since", None)
        return {
            **counts,
            "balance": await self.balance(user),
            "person": person,
            "biller_payments": await self.sandbox.count_payments(),
        }

    def relay(self) -> OutboxRelay:
        registry = outbox_registry(self.services)  # the app's own handlers
        return OutboxRelay(self.engine, registry, self.clock, worker_id="bills-test")


@pytest.fixture
async def billing(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Billing]:
    quick = fast(settings).model_copy(
        update={
            "embedded_worker": False,
            "biller_timeout_seconds": BILLER_GIVE_UP_SECONDS,
            "bill_delivery_retry_seconds": RETRY_SECONDS,
        }
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Billing(engine, quick, clock, security, client, app_services(app), app)
