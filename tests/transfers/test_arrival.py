"""Delayed transfers on both databases: held and scheduled, arriving once (the handler run
twice, after a simulated crash), cancelled once with the limits released, returned when
the payee cannot take it, the default arrival setting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.ledger.verify import verify_ledger
from ewallet.models.operations import StaffRole
from ewallet.models.tables import ledger_transactions
from ewallet.transfers import repository
from ewallet.transfers.arrival import jobs
from ewallet.transfers.arrival.service import ARRIVAL_TOPIC, arrive_transfer
from ewallet.worker.registry import DeliveredEvent, HandlerRegistry
from tests.fixtures.accounts import PIN, Harness, assert_problem
from tests.fixtures.transfers import balance, custom_harness, money_snapshot
from tests.reviews.helpers import BASE, NOTE, only_review, review_large_transfers, staff_headers
from tests.transfers.helpers import (
    CAROL,
    arrival_events,
    cancel,
    daily_remaining,
    people,
    released,
    scheduled,
    send,
    stored,
    wallet,
)
from tests.transfers.test_transfers import freeze


async def test_a_two_hour_transfer_is_held_and_the_payee_knows_nothing(harness: Harness) -> None:
    alice, bob = await people(harness)
    before = await daily_remaining(harness, alice)
    body = await scheduled(harness, alice, "100.00")
    assert body["arrival"] == "2h"
    arrives = datetime.fromisoformat(body["arrives_at"])
    assert arrives == harness.clock.now() + timedelta(hours=2)
    assert body["transaction_id"] is None
    # Held on Alice's wallet, nothing on Bob's; the spend counts toward today's limit.
    assert await wallet(harness, alice) == (1000_00, 100_00, 0)
    assert await balance(harness, bob) == 0
    assert await daily_remaining(harness, alice) != before
    assert await arrival_events(harness) == 1
    assert await harness.kinds(alice) == ["transfer_scheduled"]
    assert await harness.kinds(bob) == []
    # Bob cannot read it, nor see it in his history; Alice sees it pending with its time.
    unseen = await harness.client.get(f"/v1/transfers/{body['id']}", headers=harness.auth(bob))
    assert_problem(unseen, 404, "not_found")
    bobs = await harness.client.get("/v1/me/transactions", headers=harness.auth(bob))
    assert bobs.json()["items"] == []
    alices = (await harness.client.get("/v1/me/transactions", headers=harness.auth(alice))).json()
    pending = [item for item in alices["items"] if item["status"] == "pending"]
    assert len(pending) == 1
    assert datetime.fromisoformat(pending[0]["arrives_at"]) == arrives


async def test_arrival_posts_once_however_often_the_event_is_delivered(harness: Harness) -> None:
    alice, bob = await people(harness)
    body = await scheduled(harness, alice, "100.00")
    registry = HandlerRegistry()
    jobs.register(registry, harness.services)
    (handler,) = registry.handlers_for(ARRIVAL_TOPIC)
    event = DeliveredEvent(1, ARRIVAL_TOPIC, {"transfer_id": body["id"]}, 1, harness.clock.now())
    # Early: the relay is told to try again later, and nothing moved.
    with pytest.raises(jobs.TransferNotDueError):
        await handler(event)
    assert await balance(harness, bob) == 0
    harness.clock.advance(timedelta(hours=2))
    await handler(event)
    await handler(event)  # delivered again (a lost lease, a restart)
    assert await arrive_transfer(harness.services, body["id"]) == "succeeded"
    assert await balance(harness, bob) == 100_00
    assert await wallet(harness, alice) == (900_00, 0, 0)
    assert await harness.kinds(bob) == ["transfer_received"]
    assert await harness.kinds(alice) == ["transfer_scheduled", "transfer_arrived"]
    row = await stored(harness, body["id"])
    assert row.status == "succeeded"
    assert row.ledger_transaction_id is not None
    assert await harness.count(ledger_transactions) == 2  # the funding and this transfer
    assert (await verify_ledger(harness.engine)).clean
    seen = await harness.client.get(f"/v1/transfers/{body['id']}", headers=harness.auth(bob))
    assert seen.status_code == 200
    # Too late to cancel now.
    late = await cancel(harness, alice, body["id"])
    assert_problem(late, 409, "transfer_not_cancellable")
    assert late.json()["state"] == "succeeded"


@pytest.fixture
async def no_relay(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Harness]:
    """The app without its embedded relay: the test plays the worker, alone (a relay woken
    after a commit would take the due arrival between the crash and the checks)."""
    async with custom_harness(engine, settings, clock, embedded_worker=False) as harness:
        yield harness


async def test_an_arrival_that_crashed_before_commit_posts_once_on_the_rerun(
    no_relay: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = no_relay
    alice, bob = await people(harness)
    body = await scheduled(harness, alice, "100.00")
    harness.clock.advance(timedelta(hours=2))
    real = repository.finish_scheduled
    crashes = iter([True])

    async def crash_once(*args: object, **kwargs: object) -> bool:
        if next(crashes, False):
            raise RuntimeError("the worker died before the commit")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(repository, "finish_scheduled", crash_once)
    with pytest.raises(RuntimeError):
        await arrive_transfer(harness.services, body["id"])
    # Rolled back whole: still scheduled, still held, Bob not credited nor told.
    assert (await stored(harness, body["id"])).status == "scheduled"
    assert await wallet(harness, alice) == (1000_00, 100_00, 0)
    assert await harness.kinds(bob) == []
    assert await arrive_transfer(harness.services, body["id"]) == "succeeded"
    assert await arrive_transfer(harness.services, body["id"]) == "succeeded"
    assert await balance(harness, bob) == 100_00
    assert await wallet(harness, alice) == (900_00, 0, 0)
    assert await harness.kinds(bob) == ["transfer_received"]
    assert (await verify_ledger(harness.engine)).clean


async def test_cancel_returns_the_money_once_and_releases_the_limit(harness: Harness) -> None:
    alice, bob = await people(harness)
    before = await daily_remaining(harness, alice)
    body = await scheduled(harness, alice, "100.00")
    response = await cancel(harness, alice, body["id"])
    assert response.status_code == 200, response.text
    assert response.json()["transfer"]["status"] == "cancelled"
    assert await wallet(harness, alice) == (1000_00, 0, 0)
    assert await released(harness, body["id"])
    assert await daily_remaining(harness, alice) == before
    # The same request again is answered the same; a new one is refused and changes nothing.
    replay = await cancel(harness, alice, body["id"])
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == response.json()
    snapshot = await money_snapshot(harness, alice, bob)
    again = await cancel(harness, alice, body["id"], key="c-2")
    assert_problem(again, 409, "transfer_not_cancellable")
    assert again.json()["state"] == "cancelled"
    # The arrival job, when it comes, leaves a cancelled transfer alone.
    harness.clock.advance(timedelta(hours=2))
    assert await arrive_transfer(harness.services, body["id"]) == "cancelled"
    assert await money_snapshot(harness, alice, bob) == snapshot
    assert await balance(harness, bob) == 0
    assert await harness.kinds(bob) == []
    assert await harness.kinds(alice) == ["transfer_scheduled", "transfer_cancelled"]
    assert (await verify_ledger(harness.engine)).clean


async def test_only_the_payer_can_cancel(harness: Harness) -> None:
    alice, bob = await people(harness)
    carol = await harness.user(phone=CAROL, pin=PIN)
    body = await scheduled(harness, alice, "100.00")
    snapshot = await money_snapshot(harness, alice, bob)
    for who in (bob, carol):
        refused = await cancel(harness, who, body["id"], key=f"c-{who.id}")
        assert_problem(refused, 404, "not_found")
    missing = await cancel(harness, alice, "trf_nosuchtransfer")
    assert_problem(missing, 404, "not_found")
    assert await money_snapshot(harness, alice, bob) == snapshot
    assert (await stored(harness, body["id"])).status == "scheduled"


async def test_a_real_time_transfer_cannot_be_cancelled(harness: Harness) -> None:
    alice, bob = await people(harness)
    response = await send(harness, alice, "10.00", arrival="realtime")
    assert response.status_code == 201, response.text
    assert response.json()["transfer"]["status"] == "succeeded"
    assert response.json()["transfer"]["arrives_at"] is None
    refused = await cancel(harness, alice, response.json()["transfer"]["id"])
    assert_problem(refused, 409, "transfer_not_cancellable")
    assert await balance(harness, bob) == 10_00


async def test_a_payee_frozen_meanwhile_gets_nothing_and_the_payer_it_back(
    harness: Harness,
) -> None:
    alice, bob = await people(harness)
    body = await scheduled(harness, alice, "100.00")
    await freeze(harness, bob)
    harness.clock.advance(timedelta(hours=2))
    assert await arrive_transfer(harness.services, body["id"]) == "returned"
    assert await arrive_transfer(harness.services, body["id"]) == "returned"
    assert await wallet(harness, alice) == (1000_00, 0, 0)
    assert await balance(harness, bob) == 0
    assert await released(harness, body["id"])
    assert await harness.kinds(alice) == ["transfer_scheduled", "transfer_returned"]
    assert await harness.kinds(bob) == []
    assert (await verify_ledger(harness.engine)).clean


async def test_the_default_arrival_is_the_users_setting(harness: Harness) -> None:
    alice, bob = await people(harness)
    settings = await harness.client.get("/v1/me/transfer-settings", headers=harness.auth(alice))
    assert settings.json() == {"default_arrival": "realtime"}
    changed = await harness.client.put(
        "/v1/me/transfer-settings",
        json={"default_arrival": "next_day"},
        headers=harness.auth(alice),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"default_arrival": "next_day"}
    wrong = await harness.client.put(
        "/v1/me/transfer-settings", json={"default_arrival": "1h"}, headers=harness.auth(alice)
    )
    assert_problem(wrong, 422, "validation_error")
    # Bob's own setting is untouched by Alice's.
    bobs = await harness.client.get("/v1/me/transfer-settings", headers=harness.auth(bob))
    assert bobs.json() == {"default_arrival": "realtime"}
    # A transfer naming no arrival takes the setting; one naming it takes its own.
    default = await send(harness, alice, "10.00", arrival=None)
    assert default.status_code == 201, default.text
    transfer = default.json()["transfer"]
    assert (transfer["status"], transfer["arrival"]) == ("scheduled", "next_day")
    assert datetime.fromisoformat(transfer["arrives_at"]) == harness.clock.now() + timedelta(
        hours=24
    )
    now = await send(harness, alice, "11.00", arrival="realtime")
    assert now.json()["transfer"]["status"] == "succeeded"
    assert await balance(harness, bob) == 11_00


async def test_a_delayed_transfer_held_for_review_then_approved_waits_for_its_time(
    harness: Harness,
) -> None:
    alice, bob = await people(harness)
    await review_large_transfers(harness)
    held = await send(harness, alice, "150.00", arrival="2h")
    assert held.status_code == 202, held.text
    assert held.json()["transfer"]["status"] == "under_review"
    review = await only_review(harness)
    officer = await staff_headers(harness, StaffRole.RISK_OFFICER)
    approved = await harness.client.post(
        f"{BASE}/{review.id}/approve", json={"note": NOTE}, headers=officer
    )
    assert approved.status_code == 200, approved.text
    transfer_id = held.json()["transfer"]["id"]
    # Approved before its arrival time: scheduled on the same hold, still cancellable.
    assert (await stored(harness, transfer_id)).status == "scheduled"
    assert await balance(harness, bob) == 0
    assert await arrive_transfer(harness.services, transfer_id) == "scheduled"  # not due
    harness.clock.advance(timedelta(hours=2))
    assert await arrive_transfer(harness.services, transfer_id) == "succeeded"
    assert await balance(harness, bob) == 150_00
    assert await wallet(harness, alice) == (850_00, 0, 0)
    assert (await verify_ledger(harness.engine)).clean
