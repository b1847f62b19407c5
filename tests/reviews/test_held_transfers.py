"""A transfer risk control sends to review waits on a hold: 202 ``under_review``, the payer's
available balance down by the amount, the payee neither credited nor told, the payer told
when to expect the decision; a rerun answers the same held transfer; approving completes it
exactly once, rejecting releases the hold and the spend from the day's limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from ewallet.models.operations import StaffRole
from tests.fixtures.accounts import Harness, assert_problem
from tests.fixtures.transfers import balance, custom_harness, transfer
from tests.risk.engine.helpers import install

from .helpers import (
    BASE,
    BOB,
    NOTE,
    audited,
    counts,
    held_transfer,
    only_review,
    pair,
    review_large_transfers,
    staff_headers,
    wallet,
)


async def test_a_reviewed_transfer_is_held_and_the_payee_learns_nothing(harness: Harness) -> None:
    alice, bob = await pair(harness)
    await review_large_transfers(harness)
    small = await transfer(harness, alice, BOB, "99.99")
    assert small.status_code == 201, small.text  # below the rule: through at once
    before = await counts(harness)
    held = await held_transfer(harness, alice, "100.00")
    assert (held["status"], held["transaction_id"], held["direction"]) == (
        "under_review",
        None,
        "out",
    )
    due = harness.clock.now() + timedelta(minutes=240)  # EWALLET_RISK_REVIEW_SLA_MINUTES
    assert datetime.fromisoformat(held["review_due_at"]) == due
    # The money waits on a hold: nothing posted, the amount kept back from the payer.
    assert await wallet(harness, alice) == (300_00 - 99_99, 100_00)
    assert await balance(harness, bob) == 99_99
    after = await counts(harness)
    assert after["ledger_transactions"] == before["ledger_transactions"]
    assert after["ledger_holds"] == before["ledger_holds"] + 1
    assert after["risk_reviews"] == 1
    assert (await harness.kinds(bob)).count("transfer_received") == 1  # the small one only
    assert "transfer_under_review" in await harness.kinds(alice)
    review = await only_review(harness)
    assert (review.state, review.subject_id, review.channel, review.amount) == (
        "open",
        held["id"],
        "transfer",
        100_00,
    )
    # The payer reads it with its due time; the payee cannot see it at all.
    mine = await harness.client.get(f"/v1/transfers/{held['id']}", headers=harness.auth(alice))
    assert mine.status_code == 200, mine.text
    assert mine.json()["transfer"]["status"] == "under_review"
    assert mine.json()["transfer"]["review_due_at"] == held["review_due_at"]
    theirs = await harness.client.get(f"/v1/transfers/{held['id']}", headers=harness.auth(bob))
    assert_problem(theirs, 404, "not_found")
    # The same request again answers the same held transfer: no second hold, no second review.
    again = await transfer(harness, alice, BOB, "100.00", key="held-100.00")
    assert again.status_code == 202, again.text
    assert again.json()["transfer"]["id"] == held["id"]
    assert await counts(harness) == after
    assert await wallet(harness, alice) == (300_00 - 99_99, 100_00)


async def test_approving_completes_the_transfer_exactly_once(harness: Harness) -> None:
    alice, bob = await pair(harness)
    await review_large_transfers(harness)
    held = await held_transfer(harness, alice)
    review = await only_review(harness)
    officer = await staff_headers(harness, StaffRole.RISK_OFFICER)
    before = await counts(harness)
    approved = await harness.client.post(
        f"{BASE}/{review.id}/approve", json={"note": NOTE}, headers=officer
    )
    assert approved.status_code == 200, approved.text
    answer = approved.json()["review"]
    assert (answer["state"], answer["note"], answer["overdue"]) == ("approved", NOTE, False)
    assert await balance(harness, bob) == 100_00
    assert await wallet(harness, alice) == (200_00, 0)
    after = await counts(harness)
    assert after["ledger_transactions"] == before["ledger_transactions"] + 1
    shown = await harness.client.get(f"/v1/transfers/{held['id']}", headers=harness.auth(bob))
    assert shown.status_code == 200, shown.text
    assert shown.json()["transfer"]["status"] == "succeeded"
    assert shown.json()["transfer"]["transaction_id"]
    assert (await harness.kinds(bob)).count("transfer_received") == 1
    assert "transfer_review_approved" in await harness.kinds(alice)
    [event] = await audited(harness, "risk.review_approved")
    assert (event.subject_type, event.subject_id, event.details["note"]) == (
        "risk_review",
        review.id,
        NOTE,
    )
    # Once: a second approval, or a late rejection, is a conflict that changes nothing.
    for verb in ("approve", "reject"):
        late = await harness.client.post(
            f"{BASE}/{review.id}/{verb}", json={"note": "again"}, headers=officer
        )
        assert assert_problem(late, 409, "conflict")["state"] == "approved"
    assert await counts(harness) == after
    assert await balance(harness, bob) == 100_00
    assert (await harness.kinds(bob)).count("transfer_received") == 1


async def test_rejecting_releases_the_hold_and_the_days_limit(
    harness: Harness,
) -> None:
    caps = dict(harness.settings.limit_daily_pin_minor)
    caps[2] = 150_00  # one 100-yuan transfer fits in a day, two do not
    async with custom_harness(
        harness.engine, harness.settings, harness.clock, limit_daily_pin_minor=caps
    ) as capped:
        alice, bob = await pair(capped)
        await review_large_transfers(capped)
        held = await held_transfer(capped, alice)
        review = await only_review(capped)
        await install(capped)  # no rules: the next transfers go through if the limits allow
        over = await transfer(capped, alice, BOB, "100.00", key="second")
        assert_problem(over, 403, "limit_exceeded")  # the held one counts toward the day
        officer = await staff_headers(capped, StaffRole.RISK_OFFICER)
        rejected = await capped.client.post(
            f"{BASE}/{review.id}/reject", json={"note": "mule pattern"}, headers=officer
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["review"]["state"] == "rejected"
        assert await wallet(capped, alice) == (300_00, 0)  # the money is back
        assert await balance(capped, bob) == 0
        assert "transfer_review_rejected" in await capped.kinds(alice)
        assert "transfer_received" not in await capped.kinds(bob)
        shown = await capped.client.get(f"/v1/transfers/{held['id']}", headers=capped.auth(alice))
        assert (shown.json()["transfer"]["status"], shown.json()["transfer"]["transaction_id"]) == (
            "rejected",
            None,
        )
        [event] = await audited(capped, "risk.review_rejected")
        assert event.details["note"] == "mule pattern"
        # The rejected spend no longer counts: the same amount can go again today.
        again = await transfer(capped, alice, BOB, "100.00", key="third")
        assert again.status_code == 201, again.text
        assert await balance(capped, bob) == 100_00
        late = await capped.client.post(
            f"{BASE}/{review.id}/approve", json={"note": "changed my mind"}, headers=officer
        )
        assert assert_problem(late, 409, "conflict")["state"] == "rejected"
        assert await balance(capped, bob) == 100_00
