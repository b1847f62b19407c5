"""The customer service desk: the shop harness (users, merchants, orders, payments over
the real API) plus staff tokens and the rows a look-up reads that no quick API call makes
(cards, top-ups and withdrawals in flight, webhook attempts, devices)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from ewallet.audit.service import Actor, record_event
from ewallet.kit.ids import new_id
from ewallet.models import tables
from tests.fixtures.shop import Shop, TestUser
from tests.fixtures.staff import bearer, make_staff, staff_token


@dataclass
class Desk:
    shop: Shop

    @property
    def http(self) -> httpx.AsyncClient:
        return self.shop.client

    async def staff(self, role: str) -> tuple[str, dict[str, str]]:
        """A staff member of ``role`` with a live session: (id, auth headers)."""
        shop = self.shop
        login = await make_staff(shop.engine, shop.security, shop.clock, role)
        token = await staff_token(shop.engine, shop.security, shop.settings, shop.clock, login.id)
        return login.id, {**bearer(token), "Accept-Language": "en"}

    def now(self) -> datetime:
        return self.shop.clock.now()

    async def insert(self, table: Any, **values: Any) -> None:
        async with self.shop.engine.begin() as conn:
            await conn.execute(insert(table).values(**values))

    async def card(self, user: TestUser, *, last_four: str = "4321", status: str = "active") -> str:
        card_id, now = new_id("card"), self.now()
        await self.insert(
            tables.cards,
            id=card_id,
            user_id=user.id,
            status=status,
            bank_code="ICBC",
            bank_name="工商银行",
            card_type="debit",
            bin="621226",
            last_four=last_four,
            fingerprint=new_id("fp"),
            holder_name_masked="*三",
            bank_phone_masked="138****5678",
            binding_request_id=new_id("bind"),
            created_at=now,
            verified_at=now,
        )
        return card_id

    async def topup(
        self,
        user: TestUser,
        card_id: str | None,
        *,
        status: str,
        amount: int = 5000,
        age_s: int = 0,
    ) -> str:
        topup_id, at = new_id("top"), self.now() - timedelta(seconds=age_s)
        await self.insert(
            tables.topups,
            id=topup_id,
            user_id=user.id,
            method="card" if card_id else "alipay",
            card_id=card_id,
            amount=amount,
            currency="CNY",
            status=status,
            created_at=at,
            updated_at=at,
        )
        return topup_id

    async def withdrawal(
        self, user: TestUser, card_id: str, *, status: str, amount: int = 20000, age_s: int = 0
    ) -> str:
        withdrawal_id, at = new_id("wdr"), self.now() - timedelta(seconds=age_s)
        await self.insert(
            tables.withdrawals,
            id=withdrawal_id,
            user_id=user.id,
            card_id=card_id,
            amount=amount,
            fee=100,
            currency="CNY",
            status=status,
            failure_reason="bank refused: account closed" if status == "failed" else None,
            created_at=at,
            updated_at=at,
        )
        return withdrawal_id

    async def webhook_attempt(
        self, merchant_id: str, order_id: str, *, attempt: int, status_code: int | None
    ) -> None:
        succeeded = status_code is not None and 200 <= status_code < 300
        await self.insert(
            tables.webhook_deliveries,
            merchant_id=merchant_id,
            event_id="evt_paid",
            event_type="order.paid",
            order_id=order_id,
            url="https://shop.example/notify",
            attempt=attempt,
            succeeded=succeeded,
            status_code=status_code,
            error=None if succeeded else f"answered HTTP {status_code}",
            duration_ms=12,
            created_at=self.now() + timedelta(seconds=attempt),
        )

    async def device_sign_in(self, user: TestUser, label: str) -> str:
        """A device of the customer and the sign-in event on it, as sign-in records them."""
        device_id, now = new_id("dev"), self.now()
        await self.insert(
            tables.devices,
            id=device_id,
            user_id=user.id,
            device_key=new_id("key"),
            label=label,
            first_seen_at=now,
            last_seen_at=now,
            last_ip="203.0.113.9",
        )
        async with self.shop.engine.begin() as conn:
            await record_event(
                conn,
                clock=self.shop.clock,
                actor=Actor("user", user.id, "203.0.113.9"),
                action="auth.signed_in",
                subject_type="device",
                subject_id=device_id,
                details={"method": "password", "new_device": True},
            )
        return device_id

    async def events(self, action: str) -> list[Any]:
        """Audit events of ``action``, oldest first."""
        events = tables.audit_events
        async with self.shop.engine.connect() as conn:
            rows = await conn.execute(
                select(events).where(events.c.action == action).order_by(events.c.id)
            )
            return list(rows)

    async def audit_count(self) -> int:
        async with self.shop.engine.connect() as conn:
            return int(
                await conn.scalar(select(func.count()).select_from(tables.audit_events)) or 0
            )
