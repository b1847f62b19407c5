"""The staff risk-rule API: editing a draft, a compile error refused with its position and
nothing changed, activation (audited, the previous set retired), decisions explained, hit
counts, the catalogue; and who may call it (401, 403, 404)."""

from __future__ import annotations

from typing import Any

from ewallet.models.operations import StaffRole
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.staff import bearer, make_staff, staff_token
from tests.fixtures.transfers import fund, set_tier, transfer

from .helpers import decisions

BASE = "/v1/staff/risk"
BOB = "+8613900000002"


async def token(harness: Harness, role: str) -> dict[str, str]:
    login = await make_staff(harness.engine, harness.security, harness.clock, role)
    return bearer(
        await staff_token(
            harness.engine, harness.security, harness.settings, harness.clock, login.id
        )
    )


def rule_body(condition: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "description": "large transfers wait for a look",
        "events": ["transfer"],
        "condition": condition,
        "action": "review",
        "mode": "live",
    }
    body.update(changes)
    return body


async def test_a_draft_is_edited_validated_and_activated(harness: Harness) -> None:
    officer = await token(harness, StaffRole.RISK_OFFICER)
    client = harness.client
    listed = await client.get(f"{BASE}/rule-sets", headers=officer)
    assert listed.status_code == 200, listed.text
    assert [(s["version"], s["state"]) for s in listed.json()["items"]] == [(1, "active")]

    created = await client.post(f"{BASE}/rule-sets", json={"note": "tighter"}, headers=officer)
    assert created.status_code == 201, created.text
    draft = created.json()
    assert (draft["version"], draft["state"]) == (2, "draft")
    assert len(draft["rules"]) == 9  # a copy of the defaults

    bad = await client.put(
        f"{BASE}/rule-sets/2/rules/large", json=rule_body("amount >= = 5"), headers=officer
    )
    problem = assert_problem(bad, 422, "validation_error")
    assert problem["rule"] == "large"
    assert isinstance(problem["position"], int)
    unknown = await client.put(
        f"{BASE}/rule-sets/2/rules/large", json=rule_body("amout >= 5"), headers=officer
    )
    assert_problem(unknown, 422, "validation_error")
    freeze_review = await client.put(
        f"{BASE}/rule-sets/2/rules/large",
        json=rule_body("amount >= 5", freeze_account=True),
        headers=officer,
    )
    assert_problem(freeze_review, 422, "validation_error")
    unchanged = await client.get(f"{BASE}/rule-sets/2", headers=officer)
    assert unchanged.json()["rules"] == draft["rules"]

    saved = await client.put(
        f"{BASE}/rule-sets/2/rules/large", json=rule_body("amount >= 5000"), headers=officer
    )
    assert saved.status_code == 200, saved.text
    gone = await client.delete(f"{BASE}/rule-sets/2/rules/transfer-velocity", headers=officer)
    assert gone.status_code == 204
    missing = await client.delete(f"{BASE}/rule-sets/2/rules/transfer-velocity", headers=officer)
    assert_problem(missing, 404, "not_found")
    checked = await client.post(f"{BASE}/rule-sets/2/validate", headers=officer)
    assert checked.json() == {"valid": True, "problems": []}

    activated = await client.post(f"{BASE}/rule-sets/2/activate", headers=officer)
    assert activated.status_code == 200, activated.text
    assert activated.json()["state"] == "active"
    states = await client.get(f"{BASE}/rule-sets", headers=officer)
    assert [(s["version"], s["state"]) for s in states.json()["items"]] == [
        (2, "active"),
        (1, "retired"),
    ]
    assert "risk.rule_set_activated" in await harness.actions()
    for path, verb in (
        (f"{BASE}/rule-sets/2/rules/large", "PUT"),
        (f"{BASE}/rule-sets/1/rules/large", "PUT"),
        (f"{BASE}/rule-sets/1/rules/structuring", "DELETE"),
        (f"{BASE}/rule-sets/2/activate", "POST"),
    ):
        body = rule_body("amount >= 1") if verb == "PUT" else None
        refused = await client.request(verb, path, json=body, headers=officer)
        assert_problem(refused, 409, "conflict")


async def test_decisions_are_listed_and_explained(harness: Harness) -> None:
    officer = await token(harness, StaffRole.ADMIN)  # admins pass
    alice = await harness.user(phone="+8613800000001", pin=PIN)
    bob: TestUser = await harness.user(phone=BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    carol = await harness.user(phone="+8613900000003", pin=PIN)
    await set_tier(harness, carol, 2, name="*芳")
    await fund(harness, alice, "2000.00")
    # The allowed one first (to someone else: rapid-in-out holds only a payee never paid
    # before); a held transfer counts toward the outflow, as a spend does.
    allowed = await transfer(harness, alice, "+8613900000003", "10.00")
    assert allowed.status_code == 201, allowed.text
    reviewed = await transfer(harness, alice, BOB, "1800.00")
    assert reviewed.status_code == 202, reviewed.text  # rapid in-out: held for review
    assert reviewed.json()["code"] == "under_review"

    page = await harness.client.get(
        f"{BASE}/decisions", params={"user_id": alice.id, "verdict": "review"}, headers=officer
    )
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert (item["verdict"], item["amount"], item["fired_rules"]) == (
        "review",
        "1800.00",
        ["rapid-in-out"],
    )
    one = await harness.client.get(f"{BASE}/decisions/{item['id']}", headers=officer)
    explained = one.json()["decision"]
    [fired] = explained["fired"]
    assert fired["condition"].startswith("inflow_sum_30m >= 500")
    assert fired["values"] == {
        "amount": "1800.00",
        "inflow_sum_30m": "2000",
        "is_new_payee": True,
        "user_out_sum_30m": "10",
    }
    everything = await harness.client.get(f"{BASE}/decisions", params={"limit": 1}, headers=officer)
    assert len(everything.json()["items"]) == 1
    assert everything.json()["next_cursor"]
    second = await harness.client.get(
        f"{BASE}/decisions",
        params={"limit": 1, "cursor": everything.json()["next_cursor"]},
        headers=officer,
    )
    assert {everything.json()["items"][0]["id"], second.json()["items"][0]["id"]} == {
        row.id for row in await decisions(harness)
    }
    day = harness.clock.now().date().isoformat()
    counts = await harness.client.get(
        f"{BASE}/rule-hits", params={"from": day, "to": day}, headers=officer
    )
    assert [(c["rule_name"], c["mode"], c["hits"]) for c in counts.json()["items"]] == [
        ("rapid-in-out", "live", 1)
    ]
    reversed_range = await harness.client.get(
        f"{BASE}/rule-hits", params={"from": day, "to": "2020-01-01"}, headers=officer
    )
    assert_problem(reversed_range, 422, "validation_error")
    catalogue = await harness.client.get(f"{BASE}/features", headers=officer)
    names = {feature["name"] for feature in catalogue.json()["items"]}
    assert {"amount", "is_new_payee", "inflow_sum_30m", "user_count_1m"} <= names


ROUTES = (
    ("GET", f"{BASE}/rule-sets"),
    ("POST", f"{BASE}/rule-sets"),
    ("GET", f"{BASE}/rule-sets/1"),
    ("PUT", f"{BASE}/rule-sets/1/rules/x"),
    ("DELETE", f"{BASE}/rule-sets/1/rules/x"),
    ("POST", f"{BASE}/rule-sets/1/validate"),
    ("POST", f"{BASE}/rule-sets/1/activate"),
    ("GET", f"{BASE}/decisions"),
    ("GET", f"{BASE}/decisions/rd_x"),
    ("GET", f"{BASE}/rule-hits?from=2026-01-01&to=2026-01-02"),
    ("GET", f"{BASE}/features"),
)


async def test_only_risk_officers_and_admins_may_call(harness: Harness) -> None:
    agent = await token(harness, StaffRole.SUPPORT_AGENT)
    for method, path in ROUTES:
        body = rule_body("amount >= 1") if method == "PUT" else ({} if method == "POST" else None)
        anonymous = await harness.client.request(method, path, json=body)
        assert_problem(anonymous, 401, "unauthorized")
        refused = await harness.client.request(method, path, json=body, headers=agent)
        assert_problem(refused, 403, "forbidden")
    assert not [action for action in await harness.actions() if action.startswith("risk.")]


async def test_unknown_versions_and_decisions_are_not_found(harness: Harness) -> None:
    officer = await token(harness, StaffRole.RISK_OFFICER)
    for method, path in (
        ("GET", f"{BASE}/rule-sets/9"),
        ("POST", f"{BASE}/rule-sets/9/activate"),
        ("DELETE", f"{BASE}/rule-sets/9/rules/x"),
        ("GET", f"{BASE}/decisions/rd_missing"),
    ):
        response = await harness.client.request(method, path, headers=officer)
        assert_problem(response, 404, "not_found")
    copied = await harness.client.post(
        f"{BASE}/rule-sets", json={"from_version": 9}, headers=officer
    )
    assert_problem(copied, 404, "not_found")
