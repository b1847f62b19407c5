"""Fixtures for identity: a served app on a frozen clock, and helpers that read what it did.

``Wallet`` drives the HTTP API and reads the database behind it: SMS codes come from
``sms_messages`` after the embedded relay delivered them (:meth:`Wallet.settle` waits until
no outbox event is pending), and counts of rows prove that a refused call left nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.deps import app_engine
from ewallet.identity.runtime import no_delay
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.base import Base
from ewallet.models.messaging import SmsMessage
from ewallet.models.operations import AuditChainHead
from ewallet.models.outbox import OutboxEvent

# Mid-hour on purpose: clock-aligned windows must not look right only at a boundary.
START = datetime(2026, 3, 2, 1, 30, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
PHONE = "13812345678"
E164 = "+8613812345678"
sms_messages = cast(Table, SmsMessage.__table__)
outbox = cast(Table, OutboxEvent.__table__)
audit_head = cast(Table, AuditChainHead.__table__)
SNAPSHOT_TABLES = (
    "users",
    "devices",
    "auth_sessions",
    "refresh_tokens",
    "verification_codes",
    "step_up_challenges",
    "outbox_events",
    "sms_messages",
    "notifications",
)


@pytest.fixture
async def fast_settings(settings: Settings) -> Settings:
    """The test settings with the cheapest argon2 allowed: hashing is not what is tested."""
    return settings.model_copy(
        update={"argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024, "outbox_poll_seconds": 0.05}
    )


class Wallet:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    @property
    def engine(self) -> AsyncEngine:
        return app_engine(self.app)

    def client_from(self, ip: str) -> httpx.AsyncClient:
        """Another client of the same app, calling from address ``ip``."""
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the embedded relay has delivered every due outbox event."""
        async with asyncio.timeout(timeout):
            while True:
                pending = await self.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
                )
                if pending == 0:
                    return
                self.app.state.outbox_pool.notify()
                await asyncio.sleep(0.01)

    async def scalar(self, statement: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement)).scalar()

    async def rows(self, statement: Any) -> list[Any]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(statement)).all())

    async def count(self, table: str) -> int:
        target = Base.metadata.tables[table]
        return int(await self.scalar(select(func.count()).select_from(target)) or 0)

    async def counts(self, *tables: str) -> dict[str, int]:
        return {table: await self.count(table) for table in tables}

    async def snapshot(self) -> dict[str, Any]:
        """Everything a refused identity call must leave as it was (two queries)."""
        await self.settle()
        tables = Base.metadata.tables
        sessions = tables["auth_sessions"]
        codes = tables["verification_codes"]
        columns = [
            select(func.count()).select_from(tables[name]).scalar_subquery().label(name)
            for name in SNAPSHOT_TABLES
        ]
        live = select(func.count()).select_from(sessions).where(sessions.c.revoked_at.is_(None))
        columns.append(live.scalar_subquery().label("live_sessions"))
        [row] = await self.rows(select(*columns))
        counts: dict[str, Any] = dict(row._mapping)
        counts["code_states"] = sorted(
            (row.id, row.attempts, row.consumed_at is None, row.invalidated_at is None)
            for row in await self.rows(select(codes))
        )
        return counts

    async def sms(self, e164: str) -> list[Any]:
        await self.settle()
        return await self.rows(
            select(sms_messages).where(sms_messages.c.recipient == e164).order_by(sms_messages.c.id)
        )

    async def last_code(self, e164: str = E164) -> str:
        messages = [row for row in await self.sms(e164) if row.code is not None]
        assert messages, f"no code was texted to {e164}"
        return str(messages[-1].code)

    async def ask_code(
        self, phone: str = PHONE, purpose: str = "register", client: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        return await (client or self.client).post(
            "/v1/verification-codes", json={"phone": phone, "purpose": purpose}
        )

    async def register(
        self,
        phone: str = PHONE,
        e164: str = E164,
        *,
        password: str = PASSWORD,
        device: str = "phone-1",
    ) -> dict[str, Any]:
        """A new account; the clock moves past the resend interval afterwards."""
        response = await self.ask_code(phone, "register")
        assert response.status_code == 202, response.text
        code = await self.last_code(e164)
        response = await self.client.post(
            "/v1/users",
            json={
                "phone": phone,
                "verification_code": code,
                "login_password": password,
                "device_id": device,
            },
        )
        assert response.status_code == 201, response.text
        self.clock.advance(self.resend_gap)
        body: dict[str, Any] = response.json()
        return body

    async def sign_in(
        self, phone: str = PHONE, *, password: str = PASSWORD, device: str = "phone-1"
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/sessions", json={"phone": phone, "login_password": password, "device_id": device}
        )

    @property
    def resend_gap(self) -> timedelta:
        settings: Settings = self.app.state.settings
        return timedelta(seconds=settings.sms_resend_seconds)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running(settings: Settings, clock: FrozenClock | None = None) -> AsyncIterator[Wallet]:
    clock = clock or FrozenClock(START)
    app = create_app(settings, clock=clock)
    app.state.login_delay = no_delay
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Wallet(app, client, clock)


@pytest.fixture
async def wallet(fast_settings: Settings) -> AsyncIterator[Wallet]:
    async with running(fast_settings) as served:
        yield served
