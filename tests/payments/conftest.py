"""Merchant, order, payment and refund tests: the full app on SQLite and PostgreSQL.

Reuses the account-security harness (users made directly, tokens issued) and adds
merchants (made through the service, as the staff API and the CLI do), orders through the
merchant API, funded wallets, and :meth:`Shop.state` -- everything a refused payment must
leave untouched: the user's row and side effects, the order, payments, refunds, spend
records, ledger transactions and the wallet's and merchant's balances.

The embedded outbox relay is off: webhook tests drive a relay themselves, with the frozen
clock, so retries and back-off are deterministic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.kit.money import Money
from ewallet.ledger import Ledger, TransactionKind, chart
from ewallet.merchants.service import NewMerchant, create_merchant
from ewallet.models.identity import User
from ewallet.models.ledger import LedgerAccount, LedgerTransaction
from ewallet.models.payments import Order, Payment, Refund
from ewallet.models.spending import SpendRecord
from ewallet.security.context import SecurityContext
from tests.account_security.conftest import PIN, Harness, TestUser, clock, fast, make_app
from tests.http.conftest import serving

__all__ = ["PIN", "Shop", "TestUser", "clock", "shop"]

orders = cast(Table, Order.__table__)
payments = cast(Table, Payment.__table__)
refunds = cast(Table, Refund.__table__)
users = cast(Table, User.__table__)
spend_records = cast(Table, SpendRecord.__table__)
ledger_transactions = cast(Table, LedgerTransaction.__table__)


@dataclass
class Shop(Harness):
    app: FastAPI | None = None

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.engine, clock=self.clock)

    async def merchant(
        self,
        name: str = "Corner Bakery",
        *,
        accepts_wallet: bool = True,
        webhook_url: str | None = None,
    ) -> NewMerchant:
        return await create_merchant(
            self.engine,
            ledger=self.ledger,
            security=self.security,
            clock=self.clock,
            actor=Actor.system(),
            name=name,
            accepts_wallet=accepts_wallet,
            webhook_url=webhook_url,
        )

    @staticmethod
    def key(merchant: NewMerchant, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {merchant.api_key}", **headers}

    async def customer(self, phone: str, funds: str = "100.00", *, tier: int = 3) -> TestUser:
        """A user with a payment password, ``funds`` in the wallet and account class ``tier``."""
        user = await self.user(phone=phone, pin=PIN)
        async with self.engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == user.id).values(tier=tier))
        if Decimal(funds) > 0:
            await self.fund(user, funds)
        return user

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

    async def create_order(
        self, merchant: NewMerchant, amount: str = "12.30", **fields: Any
    ) -> httpx.Response:
        body = {"out_trade_no": fields.pop("out_trade_no", f"T-{amount}"), "amount": amount}
        body.setdefault("subject", "Two croissants")
        body.update(fields)
        return await self.client.post("/v1/merchant/orders", json=body, headers=self.key(merchant))

    async def order(self, merchant: NewMerchant, amount: str = "12.30", **fields: Any) -> str:
        response = await self.create_order(merchant, amount, **fields)
        assert response.status_code == 201, response.text
        return str(response.json()["order"]["id"])

    async def pay(
        self,
        user: TestUser,
        order_id: str,
        *,
        pin: str = PIN,
        key: str | None = None,
        qr_payload: str | None = None,
    ) -> httpx.Response:
        body: dict[str, str] = {"payment_password": pin}
        if qr_payload is not None:
            body["qr_payload"] = qr_payload
        else:
            body["order_id"] = order_id
        return await self.client.post(
            "/v1/payments",
            json=body,
            headers=self.auth(user, **{"Idempotency-Key": key or f"pay-{order_id}-{user.id}"}),
        )

    async def refund(
        self, merchant: NewMerchant, order_id: str, amount: str, number: str
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/merchant/orders/{order_id}/refunds",
            json={"amount": amount, "out_refund_no": number},
            headers=self.key(merchant, **{"Idempotency-Key": f"refund-{number}-{amount}"}),
        )

    async def posted(self, code: str) -> int:
        account = await self.ledger.account_by_code(code)
        return 0 if account is None else account.posted

    async def wallet(self, user: TestUser) -> int:
        return await self.posted(f"wallet:{user.id}:CNY")

    async def merchant_balance(self, merchant: NewMerchant) -> int:
        return await self.posted(f"merchant:{merchant.merchant.id}:CNY")

    async def order_row(self, order_id: str) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(orders).where(orders.c.id == order_id))).one()

    async def state(self, user: TestUser, order_id: str) -> dict[str, Any]:
        """Everything a refused payment must leave as it was."""
        return {
            **await self.snapshot(user),
            "order": dict((await self.order_row(order_id))._mapping),
            "payments": await self.count(payments),
            "refunds": await self.count(refunds),
            "spend_records": await self.count(spend_records),
            "ledger_transactions": await self.count(ledger_transactions),
            "ledger_accounts": await self._balances(),
        }

    async def _balances(self) -> list[tuple[str, int, int, int]]:
        accounts = cast(Table, LedgerAccount.__table__)
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(
                    accounts.c.code,
                    accounts.c.posted,
                    accounts.c.pending_debits,
                    accounts.c.pending_credits,
                ).order_by(accounts.c.code)
            )
            return [tuple(row) for row in rows]


def shop_settings(settings: Settings, **changes: Any) -> Settings:
    return fast(settings).model_copy(update={"embedded_worker": False, **changes})


@pytest.fixture
async def shop(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> AsyncIterator[Shop]:
    quick = shop_settings(settings)
    app = make_app(quick, clock)
    async with serving(app) as client:
        yield Shop(engine, quick, clock, SecurityContext.from_settings(quick), client, app)
