"""Counter-deposit tests: the full app on SQLite and PostgreSQL, customers and staff made
directly in the database (the account-security harness and the staff helpers).

The large-cash threshold is the default ¥50,000.00, so the boundary tests exercise the
setting as shipped. :meth:`Counter.world` captures everything a refused request must leave
untouched: deposits, large-cash records, ledger accounts and transactions, notices, audit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.kit.ids import new_id
from ewallet.ledger import Ledger
from ewallet.models.tables import (
    audit_events,
    ledger_accounts,
    ledger_transactions,
    notifications,
    users,
)
from ewallet.models.tables import counter_deposits as deposits
from ewallet.models.tables import large_cash_records as large_cash
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import Harness, TestUser, clock, fast, make_app
from tests.fixtures.serving import serving
from tests.fixtures.staff import bearer, make_staff, staff_token

__all__ = ["Counter", "Staffer", "clock", "counter"]

COUNTED = {
    "deposits": deposits,
    "large_cash": large_cash,
    "ledger_accounts": ledger_accounts,
    "ledger_transactions": ledger_transactions,
    "notifications": notifications,
    "audit": audit_events,
}


@dataclass(frozen=True, slots=True)
class Staffer:
    id: str
    role: str
    token: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = bearer(self.token)
        headers["Idempotency-Key"] = key or new_id("key")
        return headers


@dataclass
class Counter(Harness):
    async def staffer(self, role: str) -> Staffer:
        login = await make_staff(self.engine, self.security, self.clock, role)
        token = await staff_token(self.engine, self.security, self.settings, self.clock, login.id)
        return Staffer(login.id, role, token)

    async def deposit(
        self,
        staff: Staffer,
        phone: str,
        amount: Any,
        receipt_no: str,
        *,
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {"phone": phone, "amount": amount, "receipt_no": receipt_no, **extra}
        return await self.client.post(
            "/v1/staff/counter-deposits", json=body, headers=staff.headers(key)
        )

    async def approve(self, staff: Staffer, deposit_id: str) -> httpx.Response:
        return await self.client.post(
            f"/v1/staff/counter-deposits/{deposit_id}/approve", headers=staff.headers()
        )

    async def reject(self, staff: Staffer, deposit_id: str, reason: str) -> httpx.Response:
        return await self.client.post(
            f"/v1/staff/counter-deposits/{deposit_id}/reject",
            json={"reason": reason},
            headers=staff.headers(),
        )

    async def read(self, staff: Staffer, path: str, **params: str) -> httpx.Response:
        return await self.client.get(path, params=params, headers=bearer(staff.token))

    async def balance(self, user: TestUser) -> int:
        """The wallet's posted balance in fen (0 before it has an account)."""
        account = await Ledger(self.engine, clock=self.clock).account_by_code(
            f"wallet:{user.id}:CNY"
        )
        return 0 if account is None else account.posted

    async def vault(self, branch: str = "HQ") -> int:
        account = await Ledger(self.engine, clock=self.clock).account_by_code(
            f"cash_vault:{branch}:CNY"
        )
        return 0 if account is None else account.posted

    async def freeze(self, user: TestUser) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(users)
                .where(users.c.id == user.id)
                .values(status="frozen", frozen_by="self", frozen_at=self.clock.now())
            )

    async def records(self, deposit_id: str) -> list[Any]:
        async with self.engine.connect() as conn:
            query = select(large_cash).where(large_cash.c.deposit_id == deposit_id)
            return list(await conn.execute(query))

    async def world(self) -> dict[str, int]:
        """How many rows each table a deposit touches holds (equal = nothing happened)."""
        async with self.engine.connect() as conn:
            return {
                name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in COUNTED.items()
            }


@pytest.fixture
async def counter(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Counter]:
    quick = fast(settings)
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Counter(engine, quick, clock, security, client, app_services(app))
