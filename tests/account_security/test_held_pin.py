"""A PIN check settled in the money unit (identity's ``payment_password_held``), on both
databases: what a transfer reads before the PIN reserves nothing when it refuses, a correct
PIN's slot is freed whether the money moved or not, a wrong one counts as before, and a
rerun answered from the first unit checks no PIN at all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from ewallet.audit.service import Actor
from ewallet.identity.errors import PaymentPasswordInvalidError
from ewallet.identity.guards import locked_user
from ewallet.identity.payment_password.service import payment_password_held
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.errors import ConflictError
from ewallet.models.tables import users
from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.transfers import balance, transfer
from tests.transfers.test_transfers import pair

WRONG = "135790"


async def with_failures(harness: Harness, user: TestUser, failures: int) -> None:
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == user.id).values(payment_failures=failures)
        )


async def budget(harness: Harness, user: TestUser) -> tuple[int, int, Any]:
    """(wrong entries counted, checks in flight, since when a check is in flight)."""
    row = await harness.row(user)
    return row.payment_failures, row.payment_checks_in_flight, row.payment_checks_since


async def test_a_refusal_read_before_the_pin_reserves_nothing(harness: Harness) -> None:
    alice, _ = await pair(harness)
    await with_failures(harness, alice, 2)
    response = await transfer(harness, alice, "+8613600000009", "5.00", pin=WRONG)
    assert_problem(response, 404, "not_found")
    # No slot taken, the wrong PIN never compared: the one attempt left is still there.
    assert await budget(harness, alice) == (2, 0, None)
    assert "payment_password.wrong" not in await harness.actions()


async def test_a_correct_pin_is_settled_by_the_transfer_that_moved_the_money(
    harness: Harness,
) -> None:
    alice, bob = await pair(harness)
    await with_failures(harness, alice, 2)
    response = await transfer(harness, alice, bob.phone, "5.00")
    assert response.status_code == 201, response.text
    assert await budget(harness, alice) == (0, 0, None)
    assert await balance(harness, bob) == 5_00


async def test_a_correct_pin_whose_transfer_is_refused_still_frees_its_slot(
    harness: Harness,
) -> None:
    alice, bob = await pair(harness, funds="10.00")
    await with_failures(harness, alice, 2)
    response = await transfer(harness, alice, bob.phone, "50.00")
    assert_problem(response, 402, "insufficient_balance")
    # The PIN was right: the count is cleared and the slot given back, nothing moved.
    assert await budget(harness, alice) == (0, 0, None)
    assert await balance(harness, alice) == 10_00
    assert await balance(harness, bob) == 0


async def test_a_wrong_pin_counts_and_moves_nothing(harness: Harness) -> None:
    alice, bob = await pair(harness)
    response = await transfer(harness, alice, bob.phone, "5.00", pin=WRONG)
    assert_problem(response, 403, "payment_password_invalid")
    assert response.json()["remaining_attempts"] == 2
    assert await budget(harness, alice) == (1, 0, None)
    assert await balance(harness, alice) == 1000_00
    assert await balance(harness, bob) == 0


async def test_a_rerun_answered_by_the_first_unit_checks_no_pin(harness: Harness) -> None:
    alice, _ = await pair(harness)
    calls: list[str] = []

    async def first(uow: UnitOfWork) -> str:
        calls.append("first")
        return "answered before"

    async with payment_password_held(
        harness.services,
        user_id=alice.id,
        pin=WRONG,
        actor=Actor("user", alice.id),
        first=first,
        needed=lambda found: found != "answered before",
    ) as held:
        assert held.found == "answered before"
        assert not held.checked
    assert calls == ["first"]
    assert await budget(harness, alice) == (0, 0, None)  # the wrong PIN was never compared


async def test_a_wrong_pin_never_enters_the_block(harness: Harness) -> None:
    alice, _ = await pair(harness)
    entered = False

    async def first(uow: UnitOfWork) -> None:
        return None

    with pytest.raises(PaymentPasswordInvalidError):
        async with payment_password_held(
            harness.services,
            user_id=alice.id,
            pin=WRONG,
            actor=Actor("user", alice.id),
            first=first,
        ):
            entered = True
    assert not entered
    assert await budget(harness, alice) == (1, 0, None)


async def test_a_money_unit_that_rolls_back_after_settling_leaves_the_slot_to_the_block(
    harness: Harness,
) -> None:
    """settle_in takes effect only with its unit's commit; leaving the block frees the slot."""
    alice, _ = await pair(harness)
    await with_failures(harness, alice, 1)

    async def first(uow: UnitOfWork) -> None:
        return None

    async def money_unit_that_fails(uow: UnitOfWork) -> None:
        payer = await locked_user(uow, alice.id)
        await seen["held"].settle_in(uow, payer=payer)
        raise ConflictError("refused after the slot was settled in this unit")

    seen: dict[str, Any] = {}

    async def guarded_payment() -> None:
        actor = Actor("user", alice.id)
        async with payment_password_held(
            harness.services, user_id=alice.id, pin=PIN, actor=actor, first=first
        ) as held:
            seen["held"] = held
            # In the block the slot is held: a check is in flight.
            seen["in_flight"] = (await budget(harness, alice))[1]
            await run_unit(harness.engine, money_unit_that_fails)

    with pytest.raises(ConflictError):
        await guarded_payment()
    assert seen["held"].checked
    assert seen["in_flight"] == 1
    assert not seen["held"].settled
    assert await budget(harness, alice) == (0, 0, None)


async def test_a_slot_shared_with_other_checks_is_freed_before_the_block(
    harness: Harness,
) -> None:
    """One person's parallel payments: a slot taken while another check was in flight is
    freed at once, so the burst does not crawl through the money units three at a time."""
    alice, _ = await pair(harness)
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.id == alice.id)
            .values(payment_checks_in_flight=1, payment_checks_since=harness.clock.now())
        )

    async def first(uow: UnitOfWork) -> None:
        return None

    actor = Actor("user", alice.id)
    async with payment_password_held(
        harness.services, user_id=alice.id, pin=PIN, actor=actor, first=first
    ) as held:
        assert held.checked
        in_the_block = await budget(harness, alice)
    assert in_the_block[:2] == (0, 1)  # ours freed already; the other check's still counted
    assert await budget(harness, alice) == in_the_block
