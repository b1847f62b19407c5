"""A transfer whose answer was lost in a crash is not made again (issue 10, chaos finding).

The API process dies after the transfer's unit committed and before the key's answer was
stored; once the key's lease runs out, the client's retry (same key, same body) takes the
key over and runs again. It must answer the same transfer -- no second one, no second PIN
check -- and a different body with that key is still ``idempotency_key_reused``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ewallet.audit.service import Actor
from ewallet.kit.money import Money
from ewallet.kit.request_key import RequestKey
from ewallet.ledger.verify import verify_ledger
from ewallet.transfers import service as transfer_service
from tests.fixtures.accounts import PIN, Harness, assert_problem
from tests.fixtures.lost_answers import answers_lost, lease_runs_out
from tests.fixtures.pin_checks import count_pin_checks
from tests.fixtures.transfers import balance, transfer, transfers
from tests.transfers.test_transfers import BOB, pair


async def test_a_retry_after_a_crash_answers_the_same_transfer(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await pair(harness)
    pin_checks = count_pin_checks(monkeypatch, transfer_service)
    with answers_lost(monkeypatch):
        first = await transfer(harness, alice, BOB, "17.78", key="crash-1")
    assert first.status_code == 201, first.text
    assert await harness.count(transfers) == 1
    lease_runs_out(harness.clock)
    # The key's record was written with the transfer, in its unit (docs/http.md, "Claimed
    # in the unit"): the answer the crash lost is there, and the retry is its replay.
    retried = await transfer(harness, alice, BOB, "17.78", key="crash-1")
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json() == first.json()
    assert await harness.count(transfers) == 1
    assert (await balance(harness, alice), await balance(harness, bob)) == (982_22, 17_78)
    assert pin_checks == [alice.id]  # the rerun asked for no PIN
    replay = await transfer(harness, alice, BOB, "17.78", key="crash-1")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    # Another body with the key is still refused, and moves nothing.
    reused = await transfer(harness, alice, BOB, "17.79", key="crash-1")
    assert_problem(reused, 409, "idempotency_key_reused")
    assert await harness.count(transfers) == 1
    assert (await balance(harness, alice), await balance(harness, bob)) == (982_22, 17_78)
    assert (await verify_ledger(harness.engine)).clean


async def test_another_body_after_a_crash_is_refused_and_the_same_key_elsewhere_is_new(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await pair(harness)
    with answers_lost(monkeypatch):
        assert (await transfer(harness, alice, BOB, "5.30", key="crash-2")).status_code == 201
    lease_runs_out(harness.clock)
    reused = await transfer(harness, alice, BOB, "5.31", key="crash-2")
    assert_problem(reused, 409, "idempotency_key_reused")
    # The same key from the payee is another caller's request: a transfer of its own.
    back = await transfer(harness, bob, "+8613800000001", "5.30", key="crash-2")
    assert back.status_code == 201, back.text
    assert await harness.count(transfers) == 2
    assert (await balance(harness, alice), await balance(harness, bob)) == (1000_00, 0)
    assert (await verify_ledger(harness.engine)).clean


async def test_two_runs_of_one_request_make_one_transfer(harness: Harness) -> None:
    """Two runs of the same request at once (a rerun overlapping its first run): the
    unique request key lets one transfer commit; the other answers it, never a 500."""
    alice, bob = await pair(harness)
    services = harness.services
    key = RequestKey("d" * 64)

    async def run() -> Any:
        return await transfer_service.create_transfer(
            services,
            Actor("user", alice.id),
            sender_id=alice.id,
            to_phone=BOB,
            amount=Money.parse("2.03"),
            memo=None,
            payment_password=PIN,
            request_key=key,
        )

    one, two = await asyncio.gather(run(), run())
    assert one.id == two.id
    again = await run()  # after both: the unique key again, answered the same
    assert again.id == one.id
    assert await harness.count(transfers) == 1
    assert (await balance(harness, alice), await balance(harness, bob)) == (997_97, 2_03)
    assert (await verify_ledger(harness.engine)).clean
