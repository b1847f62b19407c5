"""The scam warning on both databases: a first transfer to someone needs
``acknowledge_new_payee``; refused without it before anything is checked or moved (not even
a PIN attempt); a payee paid before needs nothing; an idempotent retry is answered."""

from __future__ import annotations

from tests.fixtures.accounts import Harness, assert_problem
from tests.fixtures.transfers import balance, money_snapshot
from tests.transfers.helpers import people, send


async def test_a_first_transfer_needs_the_warning_confirmed(harness: Harness) -> None:
    alice, bob = await people(harness)
    snapshot = await money_snapshot(harness, alice, bob)
    refused = await send(harness, alice, "10.00", arrival=None, acknowledge=False, key="k1")
    assert_problem(refused, 409, "new_payee_confirmation_required")
    assert refused.json()["payee"] == "张*伟 (139****0002)"
    # Nothing moved, nothing counted: no transfer, no spend, no PIN attempt, no notice.
    assert await money_snapshot(harness, alice, bob) == snapshot
    confirmed = await send(harness, alice, "10.00", arrival=None, key="k2")
    assert confirmed.status_code == 201, confirmed.text
    assert await balance(harness, bob) == 10_00
    # The retry of the confirmed request is its answer again, not a second transfer.
    replay = await send(harness, alice, "10.00", arrival=None, key="k2")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == confirmed.json()
    # Paid once, Bob is no longer new: no confirmation needed.
    again = await send(harness, alice, "5.00", arrival=None, acknowledge=False, key="k3")
    assert again.status_code == 201, again.text
    assert await balance(harness, bob) == 15_00


async def test_a_delayed_first_transfer_needs_it_too(harness: Harness) -> None:
    alice, bob = await people(harness)
    snapshot = await money_snapshot(harness, alice, bob)
    refused = await send(harness, alice, "10.00", arrival="2h", acknowledge=False)
    assert_problem(refused, 409, "new_payee_confirmation_required")
    assert await money_snapshot(harness, alice, bob) == snapshot
