"""A right PIN that finds every check slot busy: ``503 server_busy``, never a guess.

The PIN's attempt budget doubles as its concurrency limit (checks in flight hold slots).
When none frees up within ``payment_password_slot_wait_seconds`` the server is busy, not
the user wrong: the answer is ``503 server_busy`` with ``Retry-After``, nothing is counted,
no money moves, and the same request (same ``Idempotency-Key``) succeeds afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.security.passwords import PinHasher
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem, users
from tests.fixtures.transfers import custom_harness, fund, money_snapshot, set_tier, transfer

ALICE = "+8613800000001"
BOB = "13800000002"


@pytest.fixture
async def busy(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Harness]:
    """One slot (a budget of 1) and a short wait for it."""
    async with custom_harness(
        engine,
        settings,
        clock,
        payment_password_max_failures=1,
        payment_password_slot_wait_seconds=0.3,
    ) as harness:
        yield harness


async def _pair(harness: Harness) -> tuple[TestUser, TestUser]:
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone="+86" + BOB, pin=PIN)
    await set_tier(harness, alice, 2, name="*丽")
    await set_tier(harness, bob, 2, name="张*伟")
    await fund(harness, alice, "100.00")
    return alice, bob


async def test_a_right_pin_waiting_on_a_held_check_is_told_the_server_is_busy(
    busy: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await _pair(busy)
    held, release = asyncio.Event(), asyncio.Event()
    original = PinHasher.verify

    async def slow(self: PinHasher, stored_hash: str, pin: str) -> bool:
        if not held.is_set():  # the first check holds the only slot until released
            held.set()
            await release.wait()
        return await original(self, stored_hash, pin)

    monkeypatch.setattr(PinHasher, "verify", slow)
    first = asyncio.create_task(transfer(busy, alice, BOB, "1.00", key="first"))
    await asyncio.wait_for(held.wait(), timeout=10)
    before = await money_snapshot(busy, alice, bob)
    response = await transfer(busy, alice, BOB, "2.00", key="second")
    body = assert_problem(response, 503, "server_busy")
    assert (body["retry_after"], response.headers["Retry-After"]) == (1, "1")
    assert "remaining_attempts" not in body
    # Nothing counted, nothing moved: the row still shows only the held check in flight.
    assert await money_snapshot(busy, alice, bob) == before
    row = await busy.row(alice)
    assert (row.payment_failures, row.payment_checks_in_flight) == (0, 1)
    assert row.payment_locked_until is None
    release.set()
    # Generous: on a loaded CI machine the other worker may hold the cores for a while.
    assert (await asyncio.wait_for(first, timeout=30)).status_code == 201
    # The same request, retried with its key, now goes through.
    retried = await transfer(busy, alice, BOB, "2.00", key="second")
    assert retried.status_code == 201, retried.text
    row = await busy.row(alice)
    assert (row.payment_failures, row.payment_checks_in_flight) == (0, 0)


async def test_slots_held_elsewhere_answer_busy_with_nothing_counted(busy: Harness) -> None:
    alice, bob = await _pair(busy)
    slots = update(users).where(users.c.id == alice.id)
    async with busy.engine.begin() as conn:  # another process's check is in flight
        now = busy.clock.now()
        await conn.execute(slots.values(payment_checks_in_flight=1, payment_checks_since=now))
    before = await money_snapshot(busy, alice, bob)
    response = await transfer(busy, alice, BOB, "3.00", key="busy")
    assert_problem(response, 503, "server_busy")
    assert await money_snapshot(busy, alice, bob) == before  # the user row included
    async with busy.engine.begin() as conn:  # that check settles (right PIN)
        await conn.execute(slots.values(payment_checks_in_flight=0, payment_checks_since=None))
    retried = await transfer(busy, alice, BOB, "3.00", key="busy")
    assert retried.status_code == 201, retried.text
