"""The staff reconciliation API: operators run a day, risk officers read it, all audited."""

from __future__ import annotations

from tests.fixtures.accounts import assert_problem
from tests.fixtures.staff import audit_actions, bearer, make_staff, staff_token
from tests.fixtures.withdrawals import ICBC, Withdrawing
from tests.reconciliation.helpers import business_day, top_up


async def token_for(h: Withdrawing, role: str) -> dict[str, str]:
    login = await make_staff(h.engine, h.security, h.clock, role)
    return bearer(await staff_token(h.engine, h.security, h.settings, h.clock, login.id))


async def test_operator_runs_a_day_and_risk_reads_the_findings(withdrawing: Withdrawing) -> None:
    h = withdrawing
    user, card_id = await h.customer("+8613900000201", ICBC, "0.00")
    assert (await top_up(h, user, card_id, "25.52")).status_code == 202  # settled by the run
    operator = await token_for(h, "operator")
    day = business_day(h).isoformat()
    started = await h.client.post(
        "/v1/staff/reconciliation-runs", json={"date": day}, headers=operator
    )
    assert started.status_code == 201, started.text
    run = started.json()
    assert (run["business_day"], run["status"]) == (day, "completed")
    assert run["counts"]["settled"] == 1
    assert run["counts"]["mismatches"] == 0

    risk = await token_for(h, "risk_officer")
    listed = await h.client.get("/v1/staff/reconciliation-runs", params={"date": day}, headers=risk)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [run["id"]]
    detail = await h.client.get(f"/v1/staff/reconciliation-runs/{run['id']}", headers=risk)
    assert detail.status_code == 200
    (item,) = detail.json()["items"]
    assert item["category"] == "credited"
    assert item["external_amount"] == "25.52"
    assert item["needs_action"] is False
    assert ("reconciliation.completed", run["id"]) in [
        (action, subject) for action, _, subject in await audit_actions(h.engine)
    ]


async def test_reading_roles_cannot_run_and_customers_cannot_read(
    withdrawing: Withdrawing,
) -> None:
    h = withdrawing
    risk = await token_for(h, "risk_officer")
    day = business_day(h).isoformat()
    refused = await h.client.post("/v1/staff/reconciliation-runs", json={"date": day}, headers=risk)
    assert_problem(refused, 403, "forbidden")
    listed = await h.client.get("/v1/staff/reconciliation-runs", headers=risk)
    assert listed.json()["items"] == []  # the refused run left nothing behind
    customer = await h.user(phone="+8613900000202")
    response = await h.client.get("/v1/staff/reconciliation-runs", headers=h.auth(customer))
    assert response.status_code == 401
    teller = await token_for(h, "teller")
    assert_problem(
        await h.client.get("/v1/staff/reconciliation-runs/rcn_x", headers=teller), 403, "forbidden"
    )
    missing = await h.client.get("/v1/staff/reconciliation-runs/rcn_nope", headers=risk)
    assert_problem(missing, 404, "not_found")


async def test_a_bad_date_is_refused(withdrawing: Withdrawing) -> None:
    h = withdrawing
    operator = await token_for(h, "operator")
    response = await h.client.post(
        "/v1/staff/reconciliation-runs", json={"date": "2026-13-01"}, headers=operator
    )
    assert_problem(response, 422, "validation_error")
