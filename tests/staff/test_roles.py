"""Changing a staff member's role: admins only, never their own, never the last admin's,
and the member's sessions end so the new role applies at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.http.deps import app_services
from ewallet.kit.clock import FrozenClock
from ewallet.kit.errors import UnauthorizedError
from ewallet.security.context import SecurityContext
from ewallet.staff.errors import LastAdminError
from ewallet.staff.principal import StaffPrincipal
from ewallet.staff.service import accounts
from tests.fixtures.staff import (
    StaffLogin,
    audit_actions,
    bearer,
    events_table,
    make_staff,
    sign_in_token,
    staff_table,
)


@pytest.fixture
async def admin(engine: AsyncEngine, security: SecurityContext, clock: FrozenClock) -> StaffLogin:
    return await make_staff(engine, security, clock, "admin")


async def _roles(engine: AsyncEngine) -> dict[str, tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(staff_table.c.id, staff_table.c.role, staff_table.c.status)
        )
        return {row.id: (row.role, row.status) for row in rows}


async def test_an_admin_changes_a_role_and_the_members_sessions_end(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admin: StaffLogin,
) -> None:
    teller = await make_staff(engine, security, clock, "teller")
    teller_headers = bearer(await sign_in_token(client, teller, clock))
    headers = bearer(await sign_in_token(client, admin, clock))

    response = await client.patch(
        f"/v1/staff/staff/{teller.id}", json={"role": "operator"}, headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "operator"
    assert (await client.get("/v1/staff/me", headers=teller_headers)).status_code == 401
    async with engine.connect() as conn:
        details = (
            await conn.execute(
                select(events_table.c.details).where(events_table.c.action == "staff.role_changed")
            )
        ).scalar_one()
    assert details == {"from": "teller", "to": "operator", "sessions_ended": 1}
    assert ("staff.role_changed", admin.id, teller.id) in await audit_actions(engine)

    # The same role again is a no-op: no second event.
    again = await client.patch(
        f"/v1/staff/staff/{teller.id}", json={"role": "operator"}, headers=headers
    )
    assert again.status_code == 200
    changes = [a for a in await audit_actions(engine) if a[0] == "staff.role_changed"]
    assert len(changes) == 1


async def test_refusals_change_nothing(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admin: StaffLogin,
) -> None:
    officer = await make_staff(engine, security, clock, "risk_officer")
    headers = bearer(await sign_in_token(client, admin, clock))
    officer_headers = bearer(await sign_in_token(client, officer, clock))
    before_roles = await _roles(engine)
    before_events = await audit_actions(engine)

    own = await client.patch(
        f"/v1/staff/staff/{admin.id}", json={"role": "teller"}, headers=headers
    )
    assert (own.status_code, own.json()["code"]) == (409, "conflict")
    unknown = await client.patch(
        "/v1/staff/staff/stf_nobody", json={"role": "teller"}, headers=headers
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    bad_role = await client.patch(
        f"/v1/staff/staff/{officer.id}", json={"role": "root"}, headers=headers
    )
    assert bad_role.status_code == 422
    extra = await client.patch(
        f"/v1/staff/staff/{officer.id}", json={"role": "teller", "status": "x"}, headers=headers
    )
    assert extra.status_code == 422
    not_admin = await client.patch(
        f"/v1/staff/staff/{officer.id}", json={"role": "admin"}, headers=officer_headers
    )
    assert (not_admin.status_code, not_admin.json()["code"]) == (403, "forbidden")
    anonymous = await client.patch(f"/v1/staff/staff/{officer.id}", json={"role": "admin"})
    assert anonymous.status_code == 401

    assert await _roles(engine) == before_roles
    assert await audit_actions(engine) == before_events
    assert (await client.get("/v1/staff/me", headers=officer_headers)).status_code == 200


async def test_promoting_to_admin_and_back(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admin: StaffLogin,
) -> None:
    operator = await make_staff(engine, security, clock, "operator")
    headers = bearer(await sign_in_token(client, admin, clock))
    up = await client.patch(
        f"/v1/staff/staff/{operator.id}", json={"role": "admin"}, headers=headers
    )
    assert up.json()["role"] == "admin"
    down = await client.patch(
        f"/v1/staff/staff/{operator.id}", json={"role": "operator"}, headers=headers
    )
    assert down.json()["role"] == "operator"


def _principal(login: StaffLogin, clock: FrozenClock) -> StaffPrincipal:
    """The admin as a request authorized a moment ago saw them."""
    return StaffPrincipal(
        staff_id=login.id,
        session_id="ssn_test",
        role="admin",
        must_change_password=False,
        session_expires_at=clock.now() + timedelta(hours=8),
    )


async def test_the_last_active_admin_keeps_the_role(
    app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admin: StaffLogin,
) -> None:
    """Two admins demoting each other at once: the first wins; the second, authorized a
    moment before, finds it would leave no admin and is refused (the rows are locked in
    order, so it sees the first change)."""
    other = await make_staff(engine, security, clock, "admin")
    services = app_services(app)
    # ``other`` demoted ``admin`` a moment ago...
    async with engine.begin() as conn:
        await conn.execute(
            update(staff_table).where(staff_table.c.id == admin.id).values(role="support_agent")
        )
    before = await audit_actions(engine)
    # ... and ``admin``'s own request, authorized before that, now tries the same on ``other``.
    with pytest.raises(LastAdminError):
        await accounts.change_role(
            services, _principal(admin, clock), staff_id=other.id, role="teller"
        )
    with pytest.raises(LastAdminError):
        await accounts.disable_staff(services, _principal(admin, clock), staff_id=other.id)
    assert (await _roles(engine))[other.id] == ("admin", "active")
    assert await audit_actions(engine) == before
    # A disabled admin does not count either.
    third = await make_staff(engine, security, clock, "admin")
    async with engine.begin() as conn:
        await conn.execute(
            update(staff_table).where(staff_table.c.id == third.id).values(status="disabled")
        )
    with pytest.raises(LastAdminError):
        await accounts.change_role(
            services, _principal(admin, clock), staff_id=other.id, role="teller"
        )


async def test_a_caller_disabled_meanwhile_changes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admin: StaffLogin,
) -> None:
    teller = await make_staff(engine, security, clock, "teller")
    async with engine.begin() as conn:
        await conn.execute(
            update(staff_table).where(staff_table.c.id == admin.id).values(status="disabled")
        )
    before = await audit_actions(engine)
    with pytest.raises(UnauthorizedError):
        await accounts.change_role(
            app_services(app), _principal(admin, clock), staff_id=teller.id, role="operator"
        )
    assert (await _roles(engine))[teller.id] == ("teller", "active")
    assert await audit_actions(engine) == before


async def test_two_admins_acting_on_each_other_at_once_leave_an_admin(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admin: StaffLogin,
) -> None:
    """A demotes B while B disables A: one goes first, the other is refused."""
    other = await make_staff(engine, security, clock, "admin")
    mine = bearer(await sign_in_token(client, admin, clock))
    theirs = bearer(await sign_in_token(client, other, clock))

    demote, disable = await asyncio.gather(
        client.patch(f"/v1/staff/staff/{other.id}", json={"role": "teller"}, headers=mine),
        client.post(f"/v1/staff/staff/{admin.id}/disable", headers=theirs),
    )

    assert sorted((demote.status_code, disable.status_code)) in ([200, 401], [200, 403], [200, 409])
    assert list((await _roles(engine)).values()).count(("admin", "active")) == 1
