"""Staff administration and the first-sign-in password change, each step audit-logged."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.staff import (
    TOTP_STEP,
    StaffLogin,
    audit_actions,
    bearer,
    make_staff,
    sessions_table,
    sign_in_token,
)


@pytest.fixture
async def admin(engine: AsyncEngine, security: SecurityContext, clock: FrozenClock) -> StaffLogin:
    return await make_staff(engine, security, clock, "admin")


async def test_admin_creates_staff_who_must_change_the_password_first(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: FrozenClock, admin: StaffLogin
) -> None:
    headers = bearer(await sign_in_token(client, admin, clock))
    created = await client.post(
        "/v1/staff/staff",
        json={"email": "Risk@Bank.example", "role": "risk_officer", "display_name": "Li Hua"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert body["staff"]["email"] == "risk@bank.example"
    assert body["staff"]["must_change_password"] is True
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    newcomer = StaffLogin(
        body["staff"]["id"],
        "risk@bank.example",
        "risk_officer",
        body["password"],
        body["totp_secret"],
    )
    assert ("staff.created", admin.id, newcomer.id) in await audit_actions(engine)

    signed_in = await client.post("/v1/staff/sessions", json=newcomer.body(clock))
    assert signed_in.status_code == 201
    assert signed_in.json()["must_change_password"] is True
    own = bearer(signed_in.json()["tokens"]["access_token"])
    # Until the password is changed, only the own account is reachable.
    refused = await client.get("/v1/staff/audit-events", headers=own)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    assert (await client.get("/v1/staff/me", headers=own)).status_code == 200

    weak = await client.put(
        "/v1/staff/me/password",
        json={"current_password": newcomer.password, "new_password": "password"},
        headers=own,
    )
    assert weak.status_code == 422
    assert weak.json()["code"] == "weak_password"
    assert "too_short" in weak.json()["reasons"]
    wrong = await client.put(
        "/v1/staff/me/password",
        json={"current_password": "not-it", "new_password": "a long new passphrase"},
        headers=own,
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"
    changed = await client.put(
        "/v1/staff/me/password",
        json={"current_password": newcomer.password, "new_password": "a long new passphrase"},
        headers=own,
    )
    assert changed.status_code == 204
    assert (await client.get("/v1/staff/audit-events", headers=own)).status_code == 200
    me = (await client.get("/v1/staff/me", headers=own)).json()
    assert me["must_change_password"] is False
    clock.advance(TOTP_STEP)
    again = await client.post(
        "/v1/staff/sessions", json=newcomer.body(clock, password="a long new passphrase")
    )
    assert again.status_code == 201
    actions = [a for a, _, _ in await audit_actions(engine)]
    assert "staff.password_changed" in actions


async def test_changing_the_password_ends_the_other_sessions(
    client: httpx.AsyncClient, engine: AsyncEngine, clock: FrozenClock, admin: StaffLogin
) -> None:
    first = bearer(await sign_in_token(client, admin, clock))
    clock.advance(TOTP_STEP)
    second = bearer(await sign_in_token(client, admin, clock))
    response = await client.put(
        "/v1/staff/me/password",
        json={"current_password": admin.password, "new_password": "another long passphrase"},
        headers=second,
    )
    assert response.status_code == 204
    assert (await client.get("/v1/staff/me", headers=first)).status_code == 401
    assert (await client.get("/v1/staff/me", headers=second)).status_code == 200


async def test_duplicate_email_and_bad_input_are_refused(
    client: httpx.AsyncClient, clock: FrozenClock, admin: StaffLogin
) -> None:
    headers = bearer(await sign_in_token(client, admin, clock))
    duplicate = await client.post(
        "/v1/staff/staff", json={"email": admin.email.upper(), "role": "teller"}, headers=headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "staff_email_taken"
    bad_role = await client.post(
        "/v1/staff/staff", json={"email": "a@bank.example", "role": "root"}, headers=headers
    )
    assert bad_role.status_code == 422
    bad_email = await client.post(
        "/v1/staff/staff", json={"email": "not-an-email", "role": "teller"}, headers=headers
    )
    assert bad_email.status_code == 422


async def test_disabling_ends_sessions_at_once_and_is_audited(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admin: StaffLogin,
) -> None:
    agent = await make_staff(engine, security, clock, "support_agent")
    agent_headers = bearer(await sign_in_token(client, agent, clock))
    headers = bearer(await sign_in_token(client, admin, clock))

    own = await client.post(f"/v1/staff/staff/{admin.id}/disable", headers=headers)
    assert own.status_code == 409
    assert (
        await client.post("/v1/staff/staff/stf_nobody/disable", headers=headers)
    ).status_code == 404

    response = await client.post(f"/v1/staff/staff/{agent.id}/disable", headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "disabled"
    assert (await client.get("/v1/staff/me", headers=agent_headers)).status_code == 401
    async with engine.connect() as conn:
        live = (
            await conn.execute(
                select(sessions_table).where(
                    sessions_table.c.staff_id == agent.id, sessions_table.c.revoked_at.is_(None)
                )
            )
        ).all()
    assert live == []
    assert ("staff.disabled", admin.id, agent.id) in await audit_actions(engine)
    # Twice is a no-op, not a second event.
    again = await client.post(f"/v1/staff/staff/{agent.id}/disable", headers=headers)
    assert again.status_code == 200
    disabled_events = [a for a in await audit_actions(engine) if a[0] == "staff.disabled"]
    assert len(disabled_events) == 1
    listing = await client.get("/v1/staff/staff", headers=headers)
    assert {item["id"]: item["status"] for item in listing.json()["items"]} == {
        admin.id: "active",
        agent.id: "disabled",
    }
