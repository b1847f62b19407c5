"""Replacing a staff member's authenticator: admin A asks, a different admin B approves.

The new secret is shown once to B, the member's sessions end, the old codes stop working;
A approving their own request, or anyone deciding on their own authenticator, is refused
with nothing changed; requests expire after 24 hours.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.kit.clock import FrozenClock
from ewallet.kit.db.base import Base
from ewallet.security.context import SecurityContext
from tests.fixtures.staff import (
    TOTP_STEP,
    StaffLogin,
    audit_actions,
    bearer,
    make_staff,
    sign_in_token,
    staff_table,
)

resets_table = Base.metadata.tables["staff_totp_resets"]


@pytest.fixture
async def admins(
    engine: AsyncEngine, security: SecurityContext, clock: FrozenClock
) -> tuple[StaffLogin, StaffLogin]:
    first = await make_staff(engine, security, clock, "admin")
    second = await make_staff(engine, security, clock, "admin")
    return first, second


async def _snapshot(engine: AsyncEngine) -> tuple[Any, ...]:
    """The staff rows (secrets included) and every reset, to show nothing changed."""
    async with engine.connect() as conn:
        staff = (await conn.execute(select(staff_table).order_by(staff_table.c.id))).all()
        resets = (await conn.execute(select(resets_table).order_by(resets_table.c.id))).all()
    return tuple(staff), tuple(resets)


async def _request(
    client: httpx.AsyncClient, headers: dict[str, str], staff_id: str, reason: str = "lost phone"
) -> httpx.Response:
    return await client.post(
        f"/v1/staff/staff/{staff_id}/totp-resets", json={"reason": reason}, headers=headers
    )


async def test_a_second_admin_approves_and_the_new_secret_works(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admins: tuple[StaffLogin, StaffLogin],
) -> None:
    maker, checker = admins
    teller = await make_staff(engine, security, clock, "teller")
    teller_headers = bearer(await sign_in_token(client, teller, clock))
    maker_headers = bearer(await sign_in_token(client, maker, clock))
    checker_headers = bearer(await sign_in_token(client, checker, clock))

    asked = await _request(client, maker_headers, teller.id, "phone lost on 2 March")
    assert asked.status_code == 201, asked.text
    reset = asked.json()["reset"]
    assert reset["state"] == "pending"
    assert (reset["staff_email"], reset["requested_by"]) == (teller.email, maker.id)
    assert reset["reason"] == "phone lost on 2 March"
    listed = await client.get("/v1/staff/totp-resets", headers=checker_headers)
    assert [item["id"] for item in listed.json()["items"]] == [reset["id"]]

    approved = await client.post(
        f"/v1/staff/totp-resets/{reset['id']}/approve", headers=checker_headers
    )
    assert approved.status_code == 200, approved.text
    assert approved.headers["cache-control"] == "no-store"
    body = approved.json()
    assert body["reset"]["state"] == "approved"
    assert body["reset"]["decided_by"] == checker.id
    assert body["sessions_ended"] == 1
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert body["totp_secret"] != teller.totp_secret

    # The member's session ended; the old authenticator no longer signs in, the new one does.
    assert (await client.get("/v1/staff/me", headers=teller_headers)).status_code == 401
    clock.advance(TOTP_STEP)
    old = await client.post("/v1/staff/sessions", json=teller.body(clock))
    assert (old.status_code, old.json()["code"]) == (401, "invalid_credentials")
    renewed = replace(teller, totp_secret=body["totp_secret"])
    clock.advance(TOTP_STEP)
    assert (await client.post("/v1/staff/sessions", json=renewed.body(clock))).status_code == 201

    actions = await audit_actions(engine)
    assert ("staff.totp_reset_requested", maker.id, teller.id) in actions
    assert ("staff.totp_reset_approved", checker.id, teller.id) in actions
    assert (await client.get("/v1/staff/totp-resets", headers=checker_headers)).json()[
        "items"
    ] == []
    everything = await client.get(
        "/v1/staff/totp-resets", params={"state": "all"}, headers=checker_headers
    )
    assert [item["state"] for item in everything.json()["items"]] == ["approved"]


async def test_the_admin_who_asked_cannot_approve(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admins: tuple[StaffLogin, StaffLogin],
) -> None:
    maker, _ = admins
    agent = await make_staff(engine, security, clock, "support_agent")
    agent_headers = bearer(await sign_in_token(client, agent, clock))
    headers = bearer(await sign_in_token(client, maker, clock))
    reset_id = (await _request(client, headers, agent.id)).json()["reset"]["id"]
    before, events = await _snapshot(engine), await audit_actions(engine)

    refused = await client.post(f"/v1/staff/totp-resets/{reset_id}/approve", headers=headers)

    assert (refused.status_code, refused.json()["code"]) == (403, "second_admin_required")
    assert "totp_secret" not in refused.json()
    assert await _snapshot(engine) == before
    assert await audit_actions(engine) == events
    assert (await client.get("/v1/staff/me", headers=agent_headers)).status_code == 200


async def test_nobody_decides_on_their_own_authenticator(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    clock: FrozenClock,
    admins: tuple[StaffLogin, StaffLogin],
) -> None:
    maker, concerned = admins
    maker_headers = bearer(await sign_in_token(client, maker, clock))
    own_headers = bearer(await sign_in_token(client, concerned, clock))
    reset_id = (await _request(client, maker_headers, concerned.id)).json()["reset"]["id"]
    before, events = await _snapshot(engine), await audit_actions(engine)

    for decision in ("approve", "reject"):
        refused = await client.post(
            f"/v1/staff/totp-resets/{reset_id}/{decision}", headers=own_headers
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "own_totp_reset")
    assert await _snapshot(engine) == before
    assert await audit_actions(engine) == events


async def test_one_pending_request_at_a_time_and_rejection(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admins: tuple[StaffLogin, StaffLogin],
) -> None:
    maker, checker = admins
    operator = await make_staff(engine, security, clock, "operator")
    maker_headers = bearer(await sign_in_token(client, maker, clock))
    checker_headers = bearer(await sign_in_token(client, checker, clock))
    reset_id = (await _request(client, maker_headers, operator.id)).json()["reset"]["id"]

    twice = await _request(client, checker_headers, operator.id)
    assert (twice.status_code, twice.json()["code"]) == (409, "totp_reset_pending")
    assert twice.json()["reset_id"] == reset_id

    # The one who asked may withdraw it, with a reason.
    rejected = await client.post(
        f"/v1/staff/totp-resets/{reset_id}/reject",
        json={"reason": "found the phone"},
        headers=maker_headers,
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["reset"]["state"] == "rejected"
    assert rejected.json()["reset"]["decision_reason"] == "found the phone"
    before = await _snapshot(engine)
    late = await client.post(f"/v1/staff/totp-resets/{reset_id}/approve", headers=checker_headers)
    assert (late.status_code, late.json()["code"]) == (409, "totp_reset_closed")
    assert late.json()["state"] == "rejected"
    assert await _snapshot(engine) == before
    # The old authenticator still works.
    clock.advance(TOTP_STEP)
    assert (await client.post("/v1/staff/sessions", json=operator.body(clock))).status_code == 201
    assert ("staff.totp_reset_rejected", maker.id, operator.id) in await audit_actions(engine)
    # A new request may follow a decided one.
    assert (await _request(client, maker_headers, operator.id)).status_code == 201


async def test_requests_expire_after_a_day(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admins: tuple[StaffLogin, StaffLogin],
) -> None:
    maker, checker = admins
    teller = await make_staff(engine, security, clock, "teller")
    maker_headers = bearer(await sign_in_token(client, maker, clock))
    reset_id = (await _request(client, maker_headers, teller.id)).json()["reset"]["id"]
    clock.advance(timedelta(hours=24))
    checker_headers = bearer(await sign_in_token(client, checker, clock))
    before = await _snapshot(engine)

    expired = await client.post(
        f"/v1/staff/totp-resets/{reset_id}/approve", headers=checker_headers
    )

    assert (expired.status_code, expired.json()["code"]) == (409, "totp_reset_closed")
    assert expired.json()["state"] == "expired"
    assert await _snapshot(engine) == before
    listed = await client.get(
        "/v1/staff/totp-resets", params={"state": "all"}, headers=checker_headers
    )
    assert [item["state"] for item in listed.json()["items"]] == ["expired"]
    assert (await _request(client, checker_headers, teller.id)).status_code == 201


async def test_refusals_and_roles(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admins: tuple[StaffLogin, StaffLogin],
) -> None:
    maker, _ = admins
    officer = await make_staff(engine, security, clock, "risk_officer")
    gone = await make_staff(engine, security, clock, "teller")
    headers = bearer(await sign_in_token(client, maker, clock))
    officer_headers = bearer(await sign_in_token(client, officer, clock))
    assert (await client.post(f"/v1/staff/staff/{gone.id}/disable", headers=headers)).is_success
    reset_id = (await _request(client, headers, officer.id)).json()["reset"]["id"]
    before, events = await _snapshot(engine), await audit_actions(engine)

    no_reason = await client.post(
        f"/v1/staff/staff/{officer.id}/totp-resets", json={"reason": " "}, headers=headers
    )
    assert no_reason.status_code == 422
    nobody = await _request(client, headers, "stf_nobody")
    assert (nobody.status_code, nobody.json()["code"]) == (404, "not_found")
    disabled = await _request(client, headers, gone.id)
    assert (disabled.status_code, disabled.json()["code"]) == (403, "staff_disabled")
    unknown = await client.post("/v1/staff/totp-resets/tre_nothing/approve", headers=headers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    # Not an admin: a risk officer may neither ask, list, approve nor reject.
    calls = [
        ("POST", f"/v1/staff/staff/{maker.id}/totp-resets", {"reason": "x"}),
        ("GET", "/v1/staff/totp-resets", None),
        ("POST", f"/v1/staff/totp-resets/{reset_id}/approve", None),
        ("POST", f"/v1/staff/totp-resets/{reset_id}/reject", {}),
    ]
    for method, path, body in calls:
        refused = await client.request(method, path, json=body, headers=officer_headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), path
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, path
    assert await _snapshot(engine) == before
    assert await audit_actions(engine) == events


async def test_two_admins_approving_at_once_make_one_secret(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    clock: FrozenClock,
    admins: tuple[StaffLogin, StaffLogin],
) -> None:
    maker, first = admins
    second = await make_staff(engine, security, clock, "admin")
    agent = await make_staff(engine, security, clock, "support_agent")
    maker_headers = bearer(await sign_in_token(client, maker, clock))
    reset_id = (await _request(client, maker_headers, agent.id)).json()["reset"]["id"]
    first_headers = bearer(await sign_in_token(client, first, clock))
    second_headers = bearer(await sign_in_token(client, second, clock))

    answers = await asyncio.gather(
        client.post(f"/v1/staff/totp-resets/{reset_id}/approve", headers=first_headers),
        client.post(f"/v1/staff/totp-resets/{reset_id}/approve", headers=second_headers),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 409]
    winner = next(answer for answer in answers if answer.status_code == 200)
    loser = next(answer for answer in answers if answer.status_code == 409)
    assert loser.json()["code"] == "totp_reset_closed"
    approvals = [a for a in await audit_actions(engine) if a[0] == "staff.totp_reset_approved"]
    assert len(approvals) == 1
    clock.advance(TOTP_STEP)
    renewed = replace(agent, totp_secret=winner.json()["totp_secret"])
    assert (await client.post("/v1/staff/sessions", json=renewed.body(clock))).status_code == 201
