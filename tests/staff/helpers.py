"""Shared set-up for the staff, operations and route-authorization tests.

Fixtures live in :mod:`tests.staff.fixtures` and are imported by each folder's conftest.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pyotp
from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor
from ewallet.config import Settings
from ewallet.kit.clock import Clock
from ewallet.kit.ids import new_id
from ewallet.models.identity import User
from ewallet.models.operations import AuditChainHead, AuditEvent, Staff, StaffSession
from ewallet.security.context import SecurityContext
from ewallet.staff.service import create_staff
from ewallet.staff.sessions import issue_tokens

# Cheap argon2 for tests: the cost is the benchmark's business, not the suite's.
FAST_ARGON2: dict[str, Any] = {"argon2_time_cost": 1, "argon2_memory_kib": 8192}
START = datetime(2026, 3, 2, 1, 0, 10, tzinfo=UTC)  # 10 s into a TOTP step
TOTP_STEP = timedelta(seconds=30)

staff_table = cast(Table, Staff.__table__)
sessions_table = cast(Table, StaffSession.__table__)
users_table = cast(Table, User.__table__)
events_table = cast(Table, AuditEvent.__table__)
head_table = cast(Table, AuditChainHead.__table__)


def fast(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST_ARGON2)


@dataclass(frozen=True, slots=True)
class StaffLogin:
    id: str
    email: str
    role: str
    password: str
    totp_secret: str

    def code(self, clock: Clock) -> str:
        return pyotp.TOTP(self.totp_secret).at(clock.now())

    def body(self, clock: Clock, **changes: str) -> dict[str, str]:
        body = {"email": self.email, "password": self.password, "totp_code": self.code(clock)}
        body.update(changes)
        return body


async def make_staff(
    engine: AsyncEngine,
    security: SecurityContext,
    clock: Clock,
    role: str,
    *,
    email: str | None = None,
    password_changed: bool = True,
) -> StaffLogin:
    created = await create_staff(
        engine,
        security=security,
        clock=clock,
        actor=Actor.system(),
        email=email or f"{role}.{new_id('e')[-8:]}@bank.example",
        role=role,
    )
    if password_changed:
        async with engine.begin() as conn:
            await conn.execute(
                update(staff_table)
                .where(staff_table.c.id == created.staff.id)
                .values(must_change_password=False)
            )
    return StaffLogin(
        created.staff.id, created.staff.email, role, created.password, created.totp_secret
    )


async def staff_token(
    engine: AsyncEngine,
    security: SecurityContext,
    settings: Settings,
    clock: Clock,
    staff_id: str,
) -> str:
    """A live session and its token without the sign-in ceremony (for role tables)."""
    now = clock.now()
    session_id = new_id("ssn")
    expires_at = now + timedelta(hours=settings.staff_session_hours)
    async with engine.begin() as conn:
        await conn.execute(
            insert(sessions_table).values(
                id=session_id, staff_id=staff_id, created_at=now, expires_at=expires_at
            )
        )
    tokens = issue_tokens(
        security,
        settings=settings,
        now=now,
        staff_id=staff_id,
        session_id=session_id,
        session_expires_at=expires_at,
        must_change_password=False,
    )
    return tokens.access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in_token(client: httpx.AsyncClient, login: StaffLogin, clock: Clock) -> str:
    response = await client.post("/v1/staff/sessions", json=login.body(clock))
    assert response.status_code == 201, response.text
    return str(response.json()["tokens"]["access_token"])


async def insert_user(engine: AsyncEngine, clock: Clock, *, status: str = "active") -> str:
    user_id = new_id("usr")
    now = clock.now()
    async with engine.begin() as conn:
        await conn.execute(
            insert(users_table).values(
                id=user_id,
                phone=f"+86138{secrets.randbelow(10**8):08d}",
                status=status,
                login_password_hash="not-a-real-hash",
                login_password_changed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return user_id


async def audit_actions(engine: AsyncEngine) -> list[tuple[str, str | None, str | None]]:
    """(action, actor_id, subject_id) of every audit event, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                events_table.c.action, events_table.c.actor_id, events_table.c.subject_id
            ).order_by(events_table.c.id)
        )
        return [(r.action, r.actor_id, r.subject_id) for r in rows]
