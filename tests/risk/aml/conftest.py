"""AML report tests: the full app on SQLite and PostgreSQL; money moved through the real
use cases (counter deposits taken and approved by staff, transfers with the PIN), the
real name verified through ``POST /v1/me/identity``.

The person-transfer threshold is lowered to ¥1,000.00 so a handful of ordinary transfers
reach it; the cash threshold is the shipped ¥50,000.00, so the boundary tests exercise
the setting as shipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.models.tables import aml_exports, aml_report_candidates, audit_events
from ewallet.security.context import SecurityContext
from tests.counter.conftest import Counter, Staffer
from tests.fixtures.accounts import PIN, TestUser, clock, fast, make_app, make_id_number
from tests.fixtures.serving import serving
from tests.fixtures.staff import bearer, make_staff, staff_token

__all__ = ["Aml", "aml", "clock"]

PERSON_THRESHOLD_MINOR = 1_000_00


@dataclass
class Aml(Counter):
    _staff: dict[str, str] | None = None

    async def staff(self, role: str) -> Staffer:
        """One staff member per role; a fresh token each time (the clock moves)."""
        if self._staff is None:
            self._staff = {}
        if role not in self._staff:
            login = await make_staff(self.engine, self.security, self.clock, role)
            self._staff[role] = login.id
        staff_id = self._staff[role]
        token = await staff_token(self.engine, self.security, self.settings, self.clock, staff_id)
        return Staffer(staff_id, role, token)

    async def cash(self, user: TestUser, amount: str, receipt_no: str) -> dict[str, Any]:
        """Cash at the counter: taken by a teller, approved by a supervisor when large."""
        response = await self.deposit(await self.staff("teller"), user.phone, amount, receipt_no)
        assert response.status_code == 201, response.text
        deposit: dict[str, Any] = response.json()["deposit"]
        if deposit["status"] == "awaiting_approval":
            approved = await self.approve(await self.staff("teller_supervisor"), deposit["id"])
            assert approved.status_code == 200, approved.text
            deposit = approved.json()["deposit"]
        assert deposit["status"] == "completed", deposit
        return deposit

    async def verify(self, user: TestUser, real_name: str, id_number: str) -> None:
        response = await self.client.post(
            "/v1/me/identity",
            json={"real_name": real_name, "id_number": id_number},
            headers=self.auth(user),
        )
        assert response.status_code in (200, 201), response.text

    async def transfer(self, sender: TestUser, to: TestUser, amount: str, key: str) -> None:
        response = await self.client.post(
            "/v1/transfers",
            json={
                "to_phone": to.phone,
                "amount": amount,
                "payment_password": PIN,
                "acknowledge_new_payee": True,
            },
            headers=self.auth(sender, **{"Idempotency-Key": key}),
        )
        assert response.status_code == 201, response.text

    async def officer_get(self, path: str, **params: str) -> httpx.Response:
        officer = await self.staff("risk_officer")
        return await self.client.get(path, params=params, headers=bearer(officer.token))

    async def aml_world(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            return {
                table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
                for table in (aml_report_candidates, aml_exports, audit_events)
            }


@pytest.fixture
async def aml(engine: AsyncEngine, settings: Settings, clock: FrozenClock) -> AsyncIterator[Aml]:
    quick = fast(settings).model_copy(
        update={"aml_person_transfer_threshold_minor": PERSON_THRESHOLD_MINOR}
    )
    app = make_app(quick, clock)
    async with serving(app) as client:
        security = SecurityContext.from_settings(quick)
        yield Aml(engine, quick, clock, security, client, app_services(app))


__all__ += ["make_id_number"]
