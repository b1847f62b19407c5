"""Staff freeze and unfreeze customer accounts; each change is audited in its transaction."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.staff import (
    audit_actions,
    bearer,
    events_table,
    insert_user,
    make_staff,
    sign_in_token,
    users_table,
)


@pytest.fixture
async def agent_headers(
    client: httpx.AsyncClient, engine: AsyncEngine, security: SecurityContext, clock: FrozenClock
) -> dict[str, str]:
    agent = await make_staff(engine, security, clock, "support_agent")
    return bearer(await sign_in_token(client, agent, clock))


async def test_freeze_then_unfreeze(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: FrozenClock,
    agent_headers: dict[str, str],
) -> None:
    user_id = await insert_user(engine, clock)
    me = (await client.get("/v1/staff/me", headers=agent_headers)).json()

    frozen = await client.post(
        f"/v1/staff/users/{user_id}/freeze",
        json={"reason": "caller reported a stolen phone"},
        headers=agent_headers,
    )
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["user"]["status"] == "frozen"
    assert frozen.json()["user"]["frozen_by"] == f"staff:{me['id']}"
    async with engine.connect() as conn:
        row = (await conn.execute(select(users_table).where(users_table.c.id == user_id))).one()
        event = (
            await conn.execute(select(events_table).order_by(events_table.c.id.desc()).limit(1))
        ).one()
    assert (row.status, row.frozen_reason) == ("frozen", "caller reported a stolen phone")
    assert row.frozen_at == clock.now()
    assert (event.action, event.actor_type, event.actor_id, event.subject_id) == (
        "account.frozen",
        "staff",
        me["id"],
        user_id,
    )
    assert event.details == {
        "frozen_by": f"staff:{me['id']}",
        "reason": "caller reported a stolen phone",
    }

    twice = await client.post(
        f"/v1/staff/users/{user_id}/freeze", json={"reason": "again"}, headers=agent_headers
    )
    assert twice.status_code == 423
    assert twice.json()["code"] == "account_frozen"

    unfrozen = await client.post(
        f"/v1/staff/users/{user_id}/unfreeze",
        json={"reason": "identity checked at the counter"},
        headers=agent_headers,
    )
    assert unfrozen.status_code == 200
    assert unfrozen.json()["user"] == {
        "id": user_id,
        "status": "active",
        "frozen_at": None,
        "frozen_by": None,
        "frozen_reason": None,
    }
    actions = [a for a in await audit_actions(engine) if a[0].startswith("account.")]
    assert actions == [
        ("account.frozen", me["id"], user_id),
        ("account.unfrozen", me["id"], user_id),
    ]


async def test_refusals_change_nothing(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: FrozenClock,
    agent_headers: dict[str, str],
) -> None:
    active = await insert_user(engine, clock)
    closed = await insert_user(engine, clock, status="closed")
    before = await audit_actions(engine)

    unknown = await client.post(
        "/v1/staff/users/usr_nobody/freeze", json={"reason": "x"}, headers=agent_headers
    )
    assert unknown.status_code == 404
    not_frozen = await client.post(
        f"/v1/staff/users/{active}/unfreeze", json={"reason": "x"}, headers=agent_headers
    )
    assert not_frozen.status_code == 409
    assert not_frozen.json()["code"] == "account_not_frozen"
    closed_account = await client.post(
        f"/v1/staff/users/{closed}/freeze", json={"reason": "x"}, headers=agent_headers
    )
    assert closed_account.status_code == 423
    no_reason = await client.post(
        f"/v1/staff/users/{active}/freeze", json={"reason": "  "}, headers=agent_headers
    )
    assert no_reason.status_code == 422
    assert await audit_actions(engine) == before
