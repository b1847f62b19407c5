"""Operations-health tests: the full app on SQLite and PostgreSQL, with no relay of its
own (the outbox stays as a test leaves it), customers, top-ups, withdrawals and outbox
events written directly in the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import audit_events
from ewallet.security.context import SecurityContext
from tests.fixtures.accounts import Harness, clock, fast
from tests.fixtures.serving import serving
from tests.fixtures.staff import bearer, make_staff, staff_token
from tests.ops_health import rows

__all__ = ["Ops", "Staffer", "clock", "ops"]


@dataclass(frozen=True, slots=True)
class Staffer:
    id: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class Ops(Harness):
    async def staffer(self, role: str, *, password_changed: bool = True) -> Staffer:
        login = await make_staff(
            self.engine, self.security, self.clock, role, password_changed=password_changed
        )
        token = await staff_token(self.engine, self.security, self.settings, self.clock, login.id)
        return Staffer(login.id, role, token)

    async def get(self, staff: Staffer | None, path: str, **params: Any) -> httpx.Response:
        headers = staff.headers if staff is not None else {}
        return await self.client.get(path, params=params, headers=headers)

    async def replay(
        self, staff: Staffer | None, event_id: int | str, **headers: str
    ) -> httpx.Response:
        sent = dict(headers)
        if staff is not None:
            sent.update(staff.headers)
        return await self.client.post(f"/v1/staff/outbox/{event_id}/replay", headers=sent)

    def ago(self, **delta: float) -> datetime:
        return self.clock.now() - timedelta(**delta)

    async def card(self, user_id: str) -> str:
        return await rows.insert_card(self.engine, user_id, now=self.clock.now())

    async def topup(
        self,
        user_id: str,
        *,
        method: str,
        status: str,
        amount: int,
        created_at: datetime,
        card_id: str | None = None,
    ) -> str:
        return await rows.insert_topup(
            self.engine,
            user_id,
            method=method,
            status=status,
            amount=amount,
            created_at=created_at,
            card_id=card_id,
        )

    async def withdrawal(
        self, user_id: str, card_id: str, *, status: str, amount: int, created_at: datetime
    ) -> str:
        return await rows.insert_withdrawal(
            self.engine, user_id, card_id, status=status, amount=amount, created_at=created_at
        )

    async def event(self, topic: str, **values: Any) -> int:
        return await rows.insert_event(self.engine, topic, now=self.clock.now(), **values)

    async def event_row(self, event_id: int) -> Any:
        return await rows.event_row(self.engine, event_id)

    async def outbox_rows(self) -> list[tuple[Any, ...]]:
        async with self.engine.connect() as conn:
            query = select(OutboxEvent.__table__).order_by(OutboxEvent.id)
            return [tuple(row) for row in await conn.execute(query)]

    async def audit(self) -> list[tuple[str, str | None, str | None, dict[str, Any]]]:
        """(action, actor_id, subject_id, details) of every audit event, oldest first."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(
                    audit_events.c.action,
                    audit_events.c.actor_id,
                    audit_events.c.subject_id,
                    audit_events.c.details,
                ).order_by(audit_events.c.id)
            )
            return [(r.action, r.actor_id, r.subject_id, r.details) for r in rows]

    async def audit_count(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(audit_events)) or 0)


@pytest.fixture
async def ops(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> AsyncIterator[Ops]:
    quick = fast(settings).model_copy(update={"embedded_worker": False})
    app = create_app(quick, clock=clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Ops(engine, quick, clock, security, client, app_services(app))
