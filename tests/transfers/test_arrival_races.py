"""Cancel racing the arrival of one delayed transfer, on PostgreSQL through two engines
(two processes' worth of connections): exactly one wins each time -- the money ends with
the payee or back with the payer, never both, never neither -- and the loser changes
nothing (a cancel is refused with ``transfer_not_cancellable``; an arrival finds the
transfer cancelled)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from ewallet.bootstrap.root import running_services
from ewallet.ledger.verify import verify_ledger
from ewallet.transfers.arrival.service import arrive_transfer, cancel_transfer
from ewallet.transfers.errors import TransferNotCancellableError
from tests.fixtures.accounts import Harness
from tests.fixtures.transfers import balance
from tests.transfers.helpers import people, released, send, stored, wallet

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

ROUNDS = 6


async def test_cancel_and_arrival_race_and_exactly_one_wins(harness: Harness) -> None:
    alice, bob = await people(harness, funds="1000.00")
    ids = []
    for round_no in range(ROUNDS):
        response = await send(harness, alice, f"{10 + round_no}.00", key=f"race-{round_no}")
        assert response.status_code == 201, response.text
        ids.append(response.json()["transfer"]["id"])
    harness.clock.advance(timedelta(hours=2))
    arrived = 0
    async with running_services(harness.settings, harness.clock) as other:
        for round_no, transfer_id in enumerate(ids):
            # Alternate who starts first, so each side sometimes gets the lock first.
            cancelling = cancel_transfer(other, user_id=alice.id, transfer_id=transfer_id)
            arriving = arrive_transfer(harness.services, transfer_id)
            pair = (cancelling, arriving) if round_no % 2 else (arriving, cancelling)
            results = await asyncio.gather(*pair, return_exceptions=True)
            outcome = (await stored(harness, transfer_id)).status
            refused = [r for r in results if isinstance(r, BaseException)]
            if outcome == "succeeded":
                arrived += 1
                assert len(refused) == 1, results
                assert isinstance(refused[0], TransferNotCancellableError), refused
                assert not await released(harness, transfer_id)
            else:
                assert outcome == "cancelled", results
                assert refused == [], results
                assert "cancelled" in results  # the arrival found it cancelled
                assert await released(harness, transfer_id)
    sent = sum(10_00 + n * 100 for n in range(ROUNDS))
    received = await balance(harness, bob)
    posted, held, _ = await wallet(harness, alice)
    assert held == 0  # no hold left open
    assert posted + received == 1000_00
    assert 0 <= received <= sent
    assert len(await harness.kinds(bob)) == arrived
    assert (await verify_ledger(harness.engine)).clean
