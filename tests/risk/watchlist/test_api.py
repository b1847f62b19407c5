"""``/v1/staff/risk/watchlist``: who may call it, listing, clearing and confirming hits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ewallet.audit.service import Actor
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.operations import StaffRole
from ewallet.models.tables import audit_events, watchlist_hits
from ewallet.risk.watchlist import service
from tests.fixtures.accounts import Harness, assert_problem
from tests.fixtures.staff import bearer, make_staff, staff_token
from tests.risk.watchlist.conftest import SAMPLE

BASE = "/v1/staff/risk/watchlist"
ROUTES = [
    ("GET", f"{BASE}/hits", None),
    ("GET", f"{BASE}/loads", None),
    ("POST", f"{BASE}/hits/wlh_unknown/clear", {"note": "checked"}),
    ("POST", f"{BASE}/hits/wlh_unknown/confirm", {"note": "checked"}),
]


async def token(harness: Harness, role: str) -> dict[str, str]:
    login = await make_staff(harness.engine, harness.security, harness.clock, role)
    return bearer(
        await staff_token(
            harness.engine, harness.security, harness.settings, harness.clock, login.id
        )
    )


async def hits_for(harness: Harness, *names: str) -> list[str]:
    """Load the sample and screen ``names`` (one subject each): the hit ids, in order."""
    await service.load_list(
        harness.services,
        Actor("system", "cli"),
        list_name="sanctions",
        file_name="sample.csv",
        content=SAMPLE.read_bytes(),
        replace=False,
    )
    ids: list[str] = []
    for number, name in enumerate(names):

        async def work(uow: UnitOfWork, name: str = name, number: int = number) -> list[str]:
            found = await service.screen(
                uow,
                harness.services,
                name=name,
                date_of_birth=None,
                subject_type="user",
                subject_id=f"usr_{number}",
                context="realname",
            )
            return [match.hit_id for match in found if match.hit_id]

        ids.extend(await run_unit(harness.engine, work))
        harness.clock.advance(timedelta(seconds=1))
    return ids


async def call(harness: Harness, method: str, url: str, body: Any, headers: Any) -> Any:
    return await harness.client.request(method, url, json=body, headers=headers)


async def test_without_a_staff_token_every_route_is_401(harness: Harness) -> None:
    user = await harness.user()
    for method, url, body in ROUTES:
        assert_problem(await call(harness, method, url, body, None), 401, "unauthorized")
        # A customer's token is no staff token either.
        answer = await call(harness, method, url, body, harness.auth(user))
        assert_problem(answer, 401, "unauthorized")


async def test_other_roles_are_403_and_change_nothing(harness: Harness) -> None:
    [hit_id] = await hits_for(harness, "张测试")
    for role in (StaffRole.SUPPORT_AGENT, StaffRole.OPERATOR, StaffRole.TELLER):
        headers = await token(harness, role)
        for method, route, body in ROUTES:
            url = route.replace("wlh_unknown", hit_id)
            assert_problem(await call(harness, method, url, body, headers), 403, "forbidden")
    async with harness.engine.connect() as conn:
        assert (await conn.execute(select(watchlist_hits.c.state))).scalars().all() == ["open"]


async def test_an_unknown_hit_is_404(harness: Harness) -> None:
    headers = await token(harness, StaffRole.RISK_OFFICER)
    for method, url, body in ROUTES[2:]:
        assert_problem(await call(harness, method, url, body, headers), 404, "not_found")


async def test_risk_officers_list_hits_newest_first_by_state(harness: Harness) -> None:
    first, second, third = await hits_for(harness, "张测试", "测试甲", "Example Testperson")
    headers = await token(harness, StaffRole.RISK_OFFICER)
    page = (await harness.client.get(f"{BASE}/hits?state=open&limit=2", headers=headers)).json()
    assert [item["id"] for item in page["items"]] == [third, second]
    assert page["items"][0]["screened_name"] == "E****** T*********"
    assert page["items"][1]["screened_name"] == "测*甲"
    assert "screened_name_encrypted" not in page["items"][0]
    rest = await harness.client.get(
        f"{BASE}/hits", params={"state": "open", "cursor": page["next_cursor"]}, headers=headers
    )
    assert [item["id"] for item in rest.json()["items"]] == [first]
    assert rest.json()["next_cursor"] is None
    bad = await harness.client.get(f"{BASE}/hits?state=closed", headers=headers)
    assert_problem(bad, 422, "validation_error")
    bad = await harness.client.get(f"{BASE}/hits?cursor=not-a-cursor", headers=headers)
    assert_problem(bad, 422, "validation_error")


async def test_a_hit_is_decided_once_and_audited(harness: Harness) -> None:
    cleared, confirmed = await hits_for(harness, "张测试", "测试甲")
    headers = await token(harness, StaffRole.RISK_OFFICER)
    answer = await harness.client.post(
        f"{BASE}/hits/{cleared}/clear",
        json={"note": "born elsewhere, other person"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["state"], body["note"], body["decided_at"] is not None) == (
        "cleared",
        "born elsewhere, other person",
        True,
    )
    again = await harness.client.post(
        f"{BASE}/hits/{cleared}/confirm", json={"note": "changed my mind"}, headers=headers
    )
    assert_problem(again, 409, "conflict")
    # Admins pass the role check.
    admin = await token(harness, StaffRole.ADMIN)
    answer = await harness.client.post(
        f"{BASE}/hits/{confirmed}/confirm", json={"note": "the listed person"}, headers=admin
    )
    assert answer.json()["state"] == "confirmed"
    listed = await harness.client.get(f"{BASE}/hits?state=open", headers=headers)
    assert listed.json()["items"] == []
    async with harness.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(audit_events.c.action, audit_events.c.subject_id).where(
                    audit_events.c.action.like("watchlist.hit_%")
                )
            )
        ).all()
        states = dict(
            (await conn.execute(select(watchlist_hits.c.id, watchlist_hits.c.state))).all()
        )
    assert sorted(rows) == [
        ("watchlist.hit_cleared", cleared),
        ("watchlist.hit_confirmed", confirmed),
    ]
    assert states == {cleared: "cleared", confirmed: "confirmed"}


async def test_a_decision_needs_a_note(harness: Harness) -> None:
    [hit_id] = await hits_for(harness, "张测试")
    headers = await token(harness, StaffRole.RISK_OFFICER)
    for body in ({}, {"note": ""}, {"note": "x" * 501}, {"note": "ok", "state": "open"}):
        answer = await harness.client.post(
            f"{BASE}/hits/{hit_id}/clear", json=body, headers=headers
        )
        assert_problem(answer, 422, "validation_error")
    blank = await harness.client.post(
        f"{BASE}/hits/{hit_id}/clear", json={"note": "   "}, headers=headers
    )
    assert_problem(blank, 422, "validation_error")
    async with harness.engine.connect() as conn:
        assert (await conn.execute(select(watchlist_hits.c.state))).scalars().all() == ["open"]


async def test_loads_are_listed_newest_first(harness: Harness) -> None:
    await hits_for(harness)
    harness.clock.advance(timedelta(seconds=5))
    await service.load_list(
        harness.services,
        Actor("system", "cli"),
        list_name="pep",
        file_name="pep.csv",
        content=b"name\n\xe6\xb5\x8b\xe8\xaf\x95\xe4\xb9\x99\n",
        replace=True,
    )
    headers = await token(harness, StaffRole.RISK_OFFICER)
    page = (await harness.client.get(f"{BASE}/loads", headers=headers)).json()
    assert [
        (i["list_name"], i["version"], i["mode"], i["entries_added"]) for i in page["items"]
    ] == [
        ("pep", 2, "replace", 1),
        ("sanctions", 1, "append", 4),
    ]
    assert page["items"][0]["loaded_by"] == "system:cli"
