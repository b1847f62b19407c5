"""Reading the audit log: newest first, filters, cursors, one event re-hashed, the chain's
status, and the reading itself recorded."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.audit.service import Actor, record_event
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.staff import audit_actions, bearer, events_table, make_staff, sign_in_token


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


async def _write(engine: AsyncEngine, clock: FrozenClock) -> None:
    """Events by two staff members and the system, an hour apart from ``clock``'s now (on
    a clock of their own: the app's stays, so tokens stay valid)."""
    clock = FrozenClock(clock.now())
    async with engine.begin() as conn:
        for n, (actor, action, subject) in enumerate(
            [
                (Actor("staff", "stf_a"), "staff.created", ("staff", "stf_x")),
                (Actor("staff", "stf_b"), "staff.disabled", ("staff", "stf_x")),
                (Actor.system(), "user.frozen", ("user", "usr_1")),
                (Actor("staff", "stf_a"), "user.unfrozen", ("user", "usr_1")),
                (Actor("staff", "stf_a"), "staff_like.other", ("staff", "stf_y")),
            ]
        ):
            clock.advance(timedelta(hours=1))
            await record_event(
                conn,
                clock=clock,
                actor=actor,
                action=action,
                subject_type=subject[0],
                subject_id=subject[1],
                details={"n": n},
            )


async def test_search_by_actor_action_prefix_subject_and_time(
    client: httpx.AsyncClient, engine: AsyncEngine, security: SecurityContext, clock: FrozenClock
) -> None:
    officer = await make_staff(engine, security, clock, "risk_officer")
    headers = bearer(await sign_in_token(client, officer, clock))
    start = clock.now()
    await _write(engine, clock)

    async def numbers(**params: str) -> list[int]:
        response = await client.get("/v1/staff/audit-events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["details"]["n"] for item in response.json()["items"] if "n" in item["details"]]

    assert await numbers(actor_id="stf_a") == [4, 3, 0]
    assert await numbers(actor_type="system") == [2]
    # A prefix is literal: "staff." does not match "staff_like." (no LIKE wildcards).
    assert await numbers(action_prefix="staff.") == [1, 0]
    assert await numbers(action_prefix="staff_") == [4]
    assert await numbers(subject_type="user", subject_id="usr_1") == [3, 2]
    since = (start + timedelta(hours=2)).isoformat()
    until = (start + timedelta(hours=4)).isoformat()
    assert await numbers(**{"from": since, "to": until}) == [2, 1]
    assert await numbers(actor_id="stf_a", **{"from": since}) == [4, 3]
    # Dates are Asia/Shanghai days; "to" includes its day.
    day = start.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert await numbers(**{"from": day, "to": day}) == [4, 3, 2, 1, 0]

    for params in (
        {"from": "yesterday"},
        {"from": "2026-03-02T10:00:00"},  # no offset
        {"from": until, "to": since},
        {"actor_type": "robot"},
    ):
        refused = await client.get("/v1/staff/audit-events", params=params, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (422, "validation_error"), params
    async with engine.connect() as conn:
        recorded = (
            await conn.execute(
                select(events_table.c.details)
                .where(events_table.c.action == "audit.viewed")
                .order_by(events_table.c.id)
            )
        ).scalars()
        assert next(iter(recorded)) == {"actor_id": "stf_a", "before_id": None}


async def test_one_event_rehashed_and_the_look_recorded(
    client: httpx.AsyncClient, engine: AsyncEngine, security: SecurityContext, clock: FrozenClock
) -> None:
    admin = await make_staff(engine, security, clock, "admin")
    agent = await make_staff(engine, security, clock, "support_agent")
    headers = bearer(await sign_in_token(client, admin, clock))
    await _write(engine, clock)

    first = await client.get("/v1/staff/audit-events/1", headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["event"]["id"] == 1
    assert body["event"]["prev_hash"] == "0" * 64
    assert (body["hash_matches"], body["link_matches"]) == (True, True)
    assert (body["previous_event_id"], body["next_event_id"]) == (None, 2)
    third = (await client.get("/v1/staff/audit-events/3", headers=headers)).json()
    assert (third["previous_event_id"], third["next_event_id"], third["link_matches"]) == (
        2,
        4,
        True,
    )
    views = [a for a in await audit_actions(engine) if a[0] == "audit.viewed"]
    assert views == [("audit.viewed", admin.id, "1"), ("audit.viewed", admin.id, "3")]

    before = await audit_actions(engine)
    missing = await client.get("/v1/staff/audit-events/9999", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (await client.get("/v1/staff/audit-events/0", headers=headers)).status_code == 422
    agent_headers = bearer(await sign_in_token(client, agent, clock))
    for path in ("/v1/staff/audit-events/1", "/v1/staff/audit-events/verification"):
        refused = await client.get(path, headers=agent_headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        assert (await client.get(path)).status_code == 401
    assert [a for a in await audit_actions(engine) if a[0] == "audit.viewed"] == views
    assert len(await audit_actions(engine)) == len(before) + 1  # the agent's sign-in only


async def test_the_chain_status_is_verified_then_checked_incrementally(
    client: httpx.AsyncClient, engine: AsyncEngine, security: SecurityContext, clock: FrozenClock
) -> None:
    officer = await make_staff(engine, security, clock, "risk_officer")
    headers = bearer(await sign_in_token(client, officer, clock))
    await _write(engine, clock)

    status = await client.get("/v1/staff/audit-events/verification", headers=headers)
    assert status.status_code == 200, status.text
    body = status.json()
    total = len(await audit_actions(engine))
    assert body["state"] == "verified"
    assert body["total_events"] == body["verified_event_id"] == total
    assert (body["checked_from_event_id"], body["events_checked"]) == (0, total)
    assert body["first_problem"] is None
    assert body["unchecked_events"] == 0
    assert body["verified_event_at"] is not None
    # Looking recorded nothing; the next look starts from the checkpoint.
    assert len(await audit_actions(engine)) == total
    await _write(engine, clock)
    again = (await client.get("/v1/staff/audit-events/verification", headers=headers)).json()
    assert (again["checked_from_event_id"], again["events_checked"]) == (total, 5)
    assert again["verified_event_id"] == total + 5
