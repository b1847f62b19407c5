"""The staff review queue: listing (oldest-due first, SLA and overdue, channel, pages,
phones masked), one review explained with the customer's recent activity, who may call it
(401, 403 for a support agent or a teller, admins pass, 404 for an unknown review), and
refusals that change nothing (a payee frozen meanwhile, a missing or overlong note)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ewallet.models.operations import StaffRole
from ewallet.models.tables import users
from tests.fixtures.accounts import Harness, assert_problem
from tests.fixtures.transfers import balance, fund, money_snapshot, transfer

from .helpers import (
    BASE,
    BOB,
    NOTE,
    counts,
    held_transfer,
    only_review,
    pair,
    review_large_transfers,
    staff_headers,
    wallet,
)


async def test_the_queue_lists_open_reviews_oldest_due_first_with_their_sla(
    harness: Harness,
) -> None:
    alice, _bob = await pair(harness, funds="1000.00")
    await review_large_transfers(harness)
    first = await held_transfer(harness, alice, "100.00")
    harness.clock.advance(timedelta(minutes=30))
    second = await held_transfer(harness, alice, "200.00")
    officer = await staff_headers(harness, StaffRole.RISK_OFFICER)
    listed = await harness.client.get(BASE, headers=officer)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["subject_id"] for item in items] == [first["id"], second["id"]]
    top = items[0]
    assert (top["state"], top["channel"], top["amount"]["amount"], top["overdue"]) == (
        "open",
        "transfer",
        "100.00",
        False,
    )
    assert top["payer_phone_masked"] == "138****0001"
    assert "13800000001" not in listed.text
    assert top["age_seconds"] == 30 * 60
    # Pages of one, in the same order.
    page = await harness.client.get(BASE, params={"limit": 1}, headers=officer)
    assert [i["subject_id"] for i in page.json()["items"]] == [first["id"]]
    cursor = page.json()["next_cursor"]
    rest = await harness.client.get(BASE, params={"limit": 1, "cursor": cursor}, headers=officer)
    assert [i["subject_id"] for i in rest.json()["items"]] == [second["id"]]
    assert rest.json()["next_cursor"] is None
    # Past the first one's SLA (240 minutes), only it is overdue.
    harness.clock.advance(timedelta(minutes=215))
    officer = await staff_headers(harness, StaffRole.RISK_OFFICER)  # the first one expired
    overdue = await harness.client.get(BASE, params={"overdue": "true"}, headers=officer)
    assert [(i["subject_id"], i["overdue"]) for i in overdue.json()["items"]] == [
        (first["id"], True)
    ]
    other_channel = await harness.client.get(BASE, params={"channel": "bill"}, headers=officer)
    assert other_channel.json()["items"] == []
    bad = await harness.client.get(BASE, params={"channel": "lottery"}, headers=officer)
    assert_problem(bad, 422, "validation_error")
    bad_cursor = await harness.client.get(BASE, params={"cursor": "nonsense"}, headers=officer)
    assert_problem(bad_cursor, 422, "validation_error")
    decided = await harness.client.get(BASE, params={"state": "approved"}, headers=officer)
    assert decided.json()["items"] == []


async def test_one_review_is_explained_with_the_customers_recent_activity(
    harness: Harness,
) -> None:
    alice, _bob = await pair(harness)
    await review_large_transfers(harness)
    await transfer(harness, alice, BOB, "5.00", key="small")
    held = await held_transfer(harness, alice)
    review = await only_review(harness)
    officer = await staff_headers(harness, StaffRole.RISK_OFFICER)
    shown = await harness.client.get(f"{BASE}/{review.id}", headers=officer)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["review"]["subject_id"] == held["id"]
    decision = body["decision"]
    assert (decision["id"], decision["verdict"]) == (review.decision_id, "review")
    assert [rule["name"] for rule in decision["fired"]] == ["look"]
    assert [d["verdict"] for d in body["recent"]["decisions"]] == ["review", "allow"]
    statuses = [t["status"] for t in body["recent"]["transactions"]]
    assert "pending" in statuses  # the held transfer, as the customer's history shows it
    missing = await harness.client.get(f"{BASE}/rvw_nothing", headers=officer)
    assert_problem(missing, 404, "not_found")


async def test_only_risk_officers_and_admins_work_the_queue(harness: Harness) -> None:
    alice, _bob = await pair(harness)
    await review_large_transfers(harness)
    await held_transfer(harness, alice)
    review = await only_review(harness)
    routes = [
        ("GET", BASE, None),
        ("GET", f"{BASE}/{review.id}", None),
        ("POST", f"{BASE}/{review.id}/approve", {"note": NOTE}),
        ("POST", f"{BASE}/{review.id}/reject", {"note": NOTE}),
    ]
    callers = {
        role: {} if role is None else await staff_headers(harness, role)
        for role in (None, StaffRole.SUPPORT_AGENT, StaffRole.TELLER)
    }
    before = await money_snapshot(harness, alice)
    for role, headers in callers.items():
        for method, path, body in routes:
            answer = await harness.client.request(method, path, json=body, headers=headers)
            if role is None:
                assert_problem(answer, 401, "unauthorized")
            else:
                assert_problem(answer, 403, "forbidden")
    # A customer's own token is no staff token either.
    as_customer = await harness.client.get(BASE, headers=harness.auth(alice))
    assert as_customer.status_code == 401
    assert await money_snapshot(harness, alice) == before
    assert (await only_review(harness)).state == "open"
    admin = await staff_headers(harness, StaffRole.ADMIN)
    listed = await harness.client.get(BASE, headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [review.id]
    unknown = await harness.client.post(
        f"{BASE}/rvw_unknown/approve", json={"note": NOTE}, headers=admin
    )
    assert_problem(unknown, 404, "not_found")


async def test_a_refused_approval_changes_nothing(harness: Harness) -> None:
    alice, bob = await pair(harness)
    await review_large_transfers(harness)
    await held_transfer(harness, alice)
    review = await only_review(harness)
    officer = await staff_headers(harness, StaffRole.RISK_OFFICER)
    async with harness.engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == bob.id).values(status="frozen"))
    before = (await counts(harness), await money_snapshot(harness, alice, bob))
    frozen = await harness.client.post(
        f"{BASE}/{review.id}/approve", json={"note": NOTE}, headers=officer
    )
    assert_problem(frozen, 409, "payee_account_frozen")
    for note in ("", "   ", "x" * 501):
        refused = await harness.client.post(
            f"{BASE}/{review.id}/approve", json={"note": note}, headers=officer
        )
        assert_problem(refused, 422, "validation_error")
    missing = await harness.client.post(f"{BASE}/{review.id}/reject", json={}, headers=officer)
    assert_problem(missing, 422, "validation_error")
    assert (await counts(harness), await money_snapshot(harness, alice, bob)) == before
    assert (await only_review(harness)).state == "open"
    assert await wallet(harness, alice) == (300_00, 100_00)
    # The payer frozen meanwhile: money never leaves a frozen account.
    async with harness.engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == bob.id).values(status="active"))
        await conn.execute(update(users).where(users.c.id == alice.id).values(status="frozen"))
    payer_frozen = await harness.client.post(
        f"{BASE}/{review.id}/approve", json={"note": NOTE}, headers=officer
    )
    assert_problem(payer_frozen, 423, "account_frozen")
    assert await balance(harness, bob) == 0
    # A rejection always goes through: the money goes back to the (frozen) payer.
    rejected = await harness.client.post(
        f"{BASE}/{review.id}/reject", json={"note": "frozen for fraud"}, headers=officer
    )
    assert rejected.status_code == 200, rejected.text
    assert await wallet(harness, alice) == (300_00, 0)
    await fund(harness, bob, "1.00")  # the payee's wallet still works
    assert await balance(harness, bob) == 1_00
