"""A served app on a real database (SQLite and PostgreSQL) and users made directly in it.

Registration is another module's work, so :meth:`Harness.user` inserts a ``users`` row
and an ``auth_sessions`` row and signs an access token the way sign-in will. argon2 runs
with the cheapest parameters the settings allow, so hashing costs milliseconds.
:meth:`Harness.snapshot` captures everything a refused request must leave untouched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pyotp
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.deps import EngineDep
from ewallet.identity.codes import Purpose, issue_code
from ewallet.identity.deps import CurrentUser
from ewallet.identity.guards import ensure_not_frozen
from ewallet.identity.payment_password.service import PaymentPasswordDep
from ewallet.identity.realname import check_character
from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.ids import new_id
from ewallet.models.identity import AuthSession, Notification, TotpRecoveryCode, User
from ewallet.models.operations import AuditChainHead, AuditEvent
from ewallet.models.outbox import OutboxEvent
from ewallet.security.context import SecurityContext
from tests.http.conftest import serving

users = cast(Table, User.__table__)
sessions = cast(Table, AuthSession.__table__)
notifications = cast(Table, Notification.__table__)
audit_events = cast(Table, AuditEvent.__table__)
audit_head = cast(Table, AuditChainHead.__table__)
outbox = cast(Table, OutboxEvent.__table__)
recovery_codes = cast(Table, TotpRecoveryCode.__table__)

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LOGIN_PASSWORD = "correct horse battery"
PIN = "385916"


@dataclass(frozen=True, slots=True)
class TestUser:
    __test__ = False  # not a test class, despite the name

    id: str
    phone: str
    session_id: str


@dataclass
class Harness:
    engine: AsyncEngine
    settings: Settings
    clock: FrozenClock
    security: SecurityContext
    client: httpx.AsyncClient

    async def user(
        self,
        *,
        phone: str = "+8613812345678",
        login_password: str = LOGIN_PASSWORD,
        pin: str | None = None,
        locale: str = "zh-CN",
    ) -> TestUser:
        now = self.clock.now()
        user_id = new_id("usr")
        values: dict[str, Any] = {
            "id": user_id,
            "phone": phone,
            "status": "active",
            "tier": 1,
            "locale": locale,
            "login_password_hash": await self.security.passwords.hash(login_password),
            "login_password_changed_at": now,
            "login_failures": 0,
            "payment_password_hash": await self.security.pins.hash(pin) if pin else None,
            "payment_failures": 0,
            "created_at": now,
            "updated_at": now,
        }
        async with self.engine.begin() as conn:
            await conn.execute(insert(users).values(**values))
        session_id = await self.new_session(user_id)
        return TestUser(user_id, phone, session_id)

    async def new_session(self, user_id: str) -> str:
        now = self.clock.now()
        session_id = new_id("ses")
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(sessions).values(
                    id=session_id,
                    user_id=user_id,
                    device_id=None,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(days=30),
                )
            )
        return session_id

    def token(self, user: TestUser, *, session_id: str | None = None) -> str:
        return self.security.tokens.issue(
            kind="user",
            subject=user.id,
            session_id=session_id or user.session_id,
            now=self.clock.now(),
            ttl=timedelta(minutes=15),
        )

    def auth(self, user: TestUser, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}", **headers}

    async def sms_code(self, phone: str, purpose: Purpose) -> str:
        async def work(uow: UnitOfWork) -> str:
            issued = await issue_code(
                await uow.connection(),
                clock=self.clock,
                settings=self.settings,
                digest=self.security.digest,
                phone=phone,
                purpose=purpose,
                client_ip=None,
            )
            return issued.code

        return await run_unit(self.engine, work)

    async def row(self, user: TestUser) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(users).where(users.c.id == user.id))).one()

    async def count(self, table: Table, *where: Any) -> int:
        async with self.engine.connect() as conn:
            return int(
                await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0
            )

    async def actions(self) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(audit_events.c.action).order_by(audit_events.c.id))
            return [row.action for row in rows]

    async def kinds(self, user: TestUser) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(notifications.c.kind)
                .where(notifications.c.user_id == user.id)
                .order_by(notifications.c.created_at, notifications.c.id)
            )
            return [row.kind for row in rows]

    async def snapshot(self, user: TestUser) -> dict[str, Any]:
        """The user's row and every side effect's count: equal before and after = nothing
        changed (no hash, no counter, no notice, no SMS, no audit event, no session)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.id == user.id))).one()
            revoked = await conn.scalar(
                select(func.count())
                .select_from(sessions)
                .where(sessions.c.user_id == user.id, sessions.c.revoked_at.is_not(None))
            )
            spent = await conn.scalar(
                select(func.count())
                .select_from(recovery_codes)
                .where(recovery_codes.c.used_at.is_not(None))
            )
        return {
            "user": dict(row._mapping),
            "notifications": await self.count(notifications),
            "outbox": await self.count(outbox),
            "audit": await self.count(audit_events),
            "revoked_sessions": revoked,
            "recovery_codes": await self.count(recovery_codes),
            "spent_recovery_codes": spent,
        }

    def totp_now(self, secret: str, *, steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(int(self.clock.now().timestamp()) + 30 * steps)


def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"argon2_time_cost": 1, "argon2_memory_kib": 8192})


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


class PayIn(BaseModel):
    payment_password: str


money = APIRouter()


@money.post("/test/pay", status_code=201)
async def pay(
    body: PayIn, user: CurrentUser, pin: PaymentPasswordDep, engine: EngineDep
) -> dict[str, str]:
    """What every money endpoint does: the PIN check, then the freeze re-check in its unit."""
    await pin.verify(user, body.payment_password)

    async def work(uow: UnitOfWork) -> None:
        await ensure_not_frozen(await uow.connection(), user_id=user.user_id)

    await run_unit(engine, work)
    return {"status": "paid"}


def make_app(settings: Settings, clock: FrozenClock) -> FastAPI:
    app = create_app(settings, clock=clock)
    app.include_router(money)
    return app


@pytest.fixture
async def harness(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Harness]:
    quick = fast(settings)
    async with serving(make_app(quick, clock)) as client:
        yield Harness(engine, quick, clock, SecurityContext.from_settings(quick), client)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def make_id_number(*, region: str = "110105", born: str = "19900307", sequence: str = "123") -> str:
    """A resident ID number with a correct check character."""
    first17 = region + born + sequence
    return first17 + check_character(first17)
