"""Funding tests: the full app with its in-process sandbox PSPs, on SQLite and PostgreSQL.

Reuses the account-security harness (users made directly, tokens issued) and keeps the app
at hand, so a test can reach the sandboxes (``app.state.psp_sandboxes``) to pay an order or
to build the notification a PSP would send.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.models.funding import Topup
from ewallet.sandbox.bank import sandbox_bank_of
from ewallet.sandbox.psp import AlipaySandbox, WechatPaySandbox
from ewallet.security.context import SecurityContext
from tests.account_security.conftest import Harness, TestUser, clock, fast, make_app
from tests.http.conftest import serving

__all__ = ["BANK_GIVE_UP_SECONDS", "Funding", "clock", "funding", "warm_sandbox_bank"]

# The gateway timeout of the funding harnesses: short, so the sandbox's ".51" (timeout) and
# ".56" (dropped answer) amounts are given up on quickly, yet long enough for an ordinary
# bind or debit on a loaded CI machine (one took 2.4 s against an earlier 1.5 s).
BANK_GIVE_UP_SECONDS = 4.0

topups = cast(Table, Topup.__table__)
PAY_PATHS = {"alipay": "/sandbox/alipay/pay", "wechat_pay": "/sandbox/wechat-pay/pay"}


@dataclass
class Funding(Harness):
    app: FastAPI | None = None

    @property
    def alipay(self) -> AlipaySandbox:
        assert self.app is not None
        sandbox = self.app.state.psp_sandboxes.alipay
        assert isinstance(sandbox, AlipaySandbox)
        return sandbox

    @property
    def wechat(self) -> WechatPaySandbox:
        assert self.app is not None
        sandbox = self.app.state.psp_sandboxes.wechat_pay
        assert isinstance(sandbox, WechatPaySandbox)
        return sandbox

    async def start(
        self, user: TestUser, method: str, amount: str = "100.00", *, key: str | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/topups",
            json={"method": method, "amount": amount},
            headers=self.auth(user, **{"Idempotency-Key": key or f"k-{method}-{amount}"}),
        )

    async def pay(self, method: str, topup_id: str) -> None:
        response = await self.client.post(f"{PAY_PATHS[method]}/{topup_id}")
        assert response.status_code == 200, response.text

    async def wait_status(
        self, user: TestUser, topup_id: str, status: str, *, seconds: float = 10.0
    ) -> dict[str, Any]:
        """Poll the top-up until it reaches ``status`` (notifications arrive asynchronously)."""
        async with asyncio.timeout(seconds):
            while True:
                response = await self.client.get(f"/v1/topups/{topup_id}", headers=self.auth(user))
                assert response.status_code == 200, response.text
                topup: dict[str, Any] = response.json()["topup"]
                if topup["status"] == status:
                    return topup
                await asyncio.sleep(0.02)

    async def balance(self, user: TestUser) -> Decimal:
        response = await self.client.get("/v1/me/wallet", headers=self.auth(user))
        assert response.status_code == 200, response.text
        return Decimal(response.json()["balances"][0]["total"])

    async def topup_rows(self, user: TestUser) -> list[Any]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(topups).where(topups.c.user_id == user.id))
            return list(rows)


@pytest.fixture
async def funding(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Funding]:
    quick = fast(settings)
    app = make_app(quick, clock)
    async with serving(app) as client:
        yield Funding(engine, quick, clock, SecurityContext.from_settings(quick), client, app)


async def warm_sandbox_bank(app: FastAPI) -> None:
    """Create the in-process bank's tables now, not inside the first call's deadline."""
    await sandbox_bank_of(app.state.sandbox_bank).start()
