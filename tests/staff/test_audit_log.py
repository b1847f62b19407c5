"""Reading the audit log: newest first, filters, cursors, and the reading itself recorded."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.staff import audit_actions, bearer, make_staff, sign_in_token


async def test_pages_filters_and_records_the_view(
    client: httpx.AsyncClient, engine: AsyncEngine, security: SecurityContext, clock: FrozenClock
) -> None:
    officer = await make_staff(engine, security, clock, "risk_officer")
    headers = bearer(await sign_in_token(client, officer, clock))
    async with engine.begin() as conn:
        for n in range(5):
            await record_event(
                conn,
                clock=clock,
                actor=Actor.system(),
                action="test.event",
                subject_id=f"s{n % 2}",
                details={"n": n},
            )

    first = await client.get(
        "/v1/staff/audit-events", params={"action": "test.event", "limit": 2}, headers=headers
    )
    assert first.status_code == 200
    page = first.json()
    assert [item["details"]["n"] for item in page["items"]] == [4, 3]
    assert page["next_cursor"] is not None
    second = await client.get(
        "/v1/staff/audit-events",
        params={"action": "test.event", "limit": 2, "cursor": page["next_cursor"]},
        headers=headers,
    )
    third = await client.get(
        "/v1/staff/audit-events",
        params={"action": "test.event", "limit": 2, "cursor": second.json()["next_cursor"]},
        headers=headers,
    )
    assert [item["details"]["n"] for item in second.json()["items"]] == [2, 1]
    assert [item["details"]["n"] for item in third.json()["items"]] == [0]
    assert third.json()["next_cursor"] is None

    by_subject = await client.get(
        "/v1/staff/audit-events", params={"subject_id": "s1"}, headers=headers
    )
    assert [item["details"]["n"] for item in by_subject.json()["items"]] == [3, 1]
    views = [a for a in await audit_actions(engine) if a[0] == "audit.viewed"]
    assert views == [("audit.viewed", officer.id, None)] * 4

    bad = await client.get("/v1/staff/audit-events", params={"cursor": "!!"}, headers=headers)
    assert bad.status_code == 422
