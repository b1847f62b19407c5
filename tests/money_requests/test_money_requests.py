"""Money requests over HTTP on both databases: ask, pay once, decline, cancel, expire."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ewallet.ledger.verify import verify_ledger
from ewallet.models.outbox import OutboxEvent
from ewallet.models.tables import money_requests, transfers
from ewallet.money_requests.service import EXPIRY_TOPIC, expire_money_request
from tests.fixtures.accounts import PIN, Harness, assert_problem
from tests.fixtures.transfers import balance, money_snapshot
from tests.money_requests.conftest import (
    ALICE,
    BOB,
    CAROL,
    accept,
    ask,
    asked,
    freeze,
    people,
    read,
    stored_status,
)


async def test_asking_tells_the_payer_who_asks_masked(harness: Harness) -> None:
    alice, bob = await people(harness)
    response = await ask(harness, alice, "139 0000 0002", "35.50", note="电影票")
    assert response.status_code == 201, response.text
    body = response.json()["money_request"]
    assert body["role"] == "outgoing"
    assert body["status"] == "open"
    assert body["amount"] == {"amount": "35.50", "currency": "CNY"}
    assert body["payer"] == {"phone_masked": "139****0002", "name_masked": "张*伟"}
    assert body["requester"] == {"phone_masked": "138****0001", "name_masked": "*丽"}
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires == harness.clock.now() + timedelta(hours=72)
    assert await harness.kinds(bob) == ["money_request_received"]
    incoming = await harness.client.get(
        "/v1/money-requests?role=incoming", headers=harness.auth(bob)
    )
    assert incoming.status_code == 200
    assert [item["id"] for item in incoming.json()["items"]] == [body["id"]]
    assert incoming.json()["items"][0]["role"] == "incoming"
    assert incoming.json()["next_cursor"] is None
    # Alice has nothing asked of her; her outgoing list holds the request.
    mine = await harness.client.get("/v1/money-requests?role=incoming", headers=harness.auth(alice))
    assert mine.json()["items"] == []
    async with harness.engine.connect() as conn:
        due = await conn.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == EXPIRY_TOPIC)
        )
    assert due == 1


async def test_an_unknown_number_answers_as_a_transfer_does_and_is_capped(
    harness: Harness,
) -> None:
    alice, _ = await people(harness)
    unknown = await ask(harness, alice, "+8613600000009", "1.00")
    transfer_like = await harness.client.post(
        "/v1/transfers/preview", json={"to_phone": "+8613600000009"}, headers=harness.auth(alice)
    )
    assert_problem(unknown, 404, "not_found")
    assert unknown.json()["title"] == transfer_like.json()["title"]
    assert unknown.json()["detail"] == transfer_like.json()["detail"]
    assert await harness.count(money_requests) == 0
    # Asking and previewing share the look-up budget (30 an hour, one used by each above).
    for index in range(28):
        response = await ask(harness, alice, "+8613600000009", f"{index + 1}.00")
        assert response.status_code == 404
    capped = await ask(harness, alice, BOB, "2.00")
    assert_problem(capped, 429, "rate_limited")
    assert "payer" not in capped.text


async def test_asking_oneself_or_a_frozen_wallet_is_refused(harness: Harness) -> None:
    alice, bob = await people(harness)
    assert_problem(await ask(harness, alice, ALICE, "1.00"), 422, "transfer_to_self")
    await freeze(harness, bob)
    assert_problem(await ask(harness, alice, BOB, "1.00"), 409, "payee_account_frozen")
    assert await harness.count(money_requests) == 0
    assert await harness.kinds(bob) == []


async def test_paying_a_request_moves_the_money_once_and_marks_it_paid(harness: Harness) -> None:
    alice, bob = await people(harness)
    request_id = await asked(harness, alice, BOB, "35.50")
    response = await accept(harness, bob, request_id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["money_request"]["status"] == "paid"
    assert body["money_request"]["transfer_id"] == body["transfer"]["id"]
    assert body["transfer"]["amount"] == {"amount": "35.50", "currency": "CNY"}
    assert await balance(harness, bob) == 1000_00 - 35_50
    assert await balance(harness, alice) == 35_50
    assert "money_request_paid" in await harness.kinds(alice)
    assert (await verify_ledger(harness.engine)).clean
    # Paying again (another key) is refused and moves nothing.
    before = await money_snapshot(harness, alice, bob)
    again = await accept(harness, bob, request_id, key="second")
    assert_problem(again, 409, "money_request_not_open")
    assert await money_snapshot(harness, alice, bob) == before
    # The same key answers the same payment.
    replay = await accept(harness, bob, request_id)
    assert replay.status_code == 201
    assert replay.json() == body


async def test_two_accepts_at_once_pay_once(harness: Harness) -> None:
    alice, bob = await people(harness)
    request_id = await asked(harness, alice, BOB, "10.00")
    results = await asyncio.gather(
        *(accept(harness, bob, request_id, key=f"race-{index}") for index in range(6))
    )
    statuses = sorted(result.status_code for result in results)
    assert statuses.count(201) == 1, [r.text for r in results]
    assert set(statuses) == {201, 409}
    assert await harness.count(transfers) == 1
    assert await balance(harness, bob) == 1000_00 - 10_00
    assert await balance(harness, alice) == 10_00
    assert await stored_status(harness, request_id) == "paid"
    assert (await verify_ledger(harness.engine)).clean


async def test_a_wrong_pin_leaves_the_request_open_and_moves_nothing(harness: Harness) -> None:
    alice, bob = await people(harness)
    request_id = await asked(harness, alice, BOB, "10.00")
    before = await money_snapshot(harness, alice, bob)
    wrong = await accept(harness, bob, request_id, pin="000000")
    assert_problem(wrong, 403, "payment_password_invalid")
    assert await stored_status(harness, request_id) == "open"
    after = await money_snapshot(harness, alice, bob)
    # The wrong PIN is counted on Bob's row and audited (a security event); no money, no
    # transfer, no spend record, no notice moved.
    for key in ("transfers", "spend_records", "ledger_transactions", "ledger_postings"):
        assert after[key] == before[key]
    assert after["balances"] == before["balances"]
    assert [p["notifications"] for p in after["people"]] == [
        p["notifications"] for p in before["people"]
    ]
    assert await balance(harness, bob) == 1000_00
    assert await harness.count(transfers) == 0


async def test_a_short_balance_leaves_the_request_open(harness: Harness) -> None:
    alice, bob = await people(harness, funds="5.00")
    request_id = await asked(harness, alice, BOB, "10.00")
    assert_problem(await accept(harness, bob, request_id), 402, "insufficient_balance")
    assert await stored_status(harness, request_id) == "open"
    assert await balance(harness, bob) == 5_00
    assert await harness.count(transfers) == 0


async def test_only_the_payer_pays_and_strangers_see_nothing(harness: Harness) -> None:
    alice, bob = await people(harness)
    await harness.user(phone=CAROL, pin=PIN)
    carol = await harness.user(phone="+8613500000005", pin=PIN)
    request_id = await asked(harness, alice, BOB, "10.00")
    assert_problem(await accept(harness, alice, request_id), 403, "forbidden")
    assert_problem(await accept(harness, carol, request_id), 404, "not_found")
    stranger = await read(harness, carol, request_id)
    assert_problem(stranger, 404, "not_found")
    assert "10.00" not in stranger.text
    for action in ("decline", "cancel"):
        refused = await harness.client.post(
            f"/v1/money-requests/{request_id}/{action}", headers=harness.auth(carol)
        )
        assert_problem(refused, 404, "not_found")
    # The requester cannot decline, the payer cannot cancel.
    decline = await harness.client.post(
        f"/v1/money-requests/{request_id}/decline", headers=harness.auth(alice)
    )
    assert_problem(decline, 403, "forbidden")
    cancel = await harness.client.post(
        f"/v1/money-requests/{request_id}/cancel", headers=harness.auth(bob)
    )
    assert_problem(cancel, 403, "forbidden")
    assert await stored_status(harness, request_id) == "open"
    assert await harness.count(transfers) == 0


async def test_declining_tells_the_requester_and_ends_the_request(harness: Harness) -> None:
    alice, bob = await people(harness)
    request_id = await asked(harness, alice, BOB, "10.00")
    response = await harness.client.post(
        f"/v1/money-requests/{request_id}/decline", headers=harness.auth(bob)
    )
    assert response.status_code == 200, response.text
    assert response.json()["money_request"]["status"] == "declined"
    assert await harness.kinds(alice) == ["money_request_declined"]
    assert_problem(await accept(harness, bob, request_id), 409, "money_request_not_open")
    assert await balance(harness, bob) == 1000_00


async def test_the_requester_cancels_while_open(harness: Harness) -> None:
    alice, bob = await people(harness)
    request_id = await asked(harness, alice, BOB, "10.00")
    response = await harness.client.post(
        f"/v1/money-requests/{request_id}/cancel", headers=harness.auth(alice)
    )
    assert response.status_code == 200, response.text
    assert response.json()["money_request"]["status"] == "cancelled"
    assert await harness.kinds(bob) == ["money_request_received", "money_request_cancelled"]
    again = await harness.client.post(
        f"/v1/money-requests/{request_id}/cancel", headers=harness.auth(alice)
    )
    body = assert_problem(again, 409, "money_request_not_open")
    assert body["state"] == "cancelled"
    assert_problem(await accept(harness, bob, request_id), 409, "money_request_not_open")
    assert await harness.count(transfers) == 0


async def test_a_request_expires_when_its_time_is_up(harness: Harness) -> None:
    alice, bob = await people(harness)
    request_id = await asked(harness, alice, BOB, "10.00")
    # Not yet due: the expiry job leaves it open.
    assert await expire_money_request(harness.services, request_id) == "open"
    harness.clock.advance(timedelta(hours=72))
    # Read as expired at once, before any job ran; it cannot be paid.
    assert (await read(harness, bob, request_id)).json()["money_request"]["status"] == "expired"
    assert await stored_status(harness, request_id) == "open"
    assert_problem(await accept(harness, bob, request_id), 409, "money_request_not_open")
    assert await balance(harness, bob) == 1000_00
    # The job stores it and tells the requester, once.
    assert await expire_money_request(harness.services, request_id) == "expired"
    assert await expire_money_request(harness.services, request_id) == "expired"
    assert await stored_status(harness, request_id) == "expired"
    assert await harness.kinds(alice) == ["money_request_expired"]
    assert await harness.count(transfers) == 0


async def test_a_paid_request_is_not_expired_by_its_job(harness: Harness) -> None:
    alice, bob = await people(harness)
    request_id = await asked(harness, alice, BOB, "10.00")
    assert (await accept(harness, bob, request_id)).status_code == 201
    harness.clock.advance(timedelta(hours=73))
    assert await expire_money_request(harness.services, request_id) == "paid"
    assert "money_request_expired" not in await harness.kinds(alice)
