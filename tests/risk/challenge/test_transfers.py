"""A risk ``challenge`` on a transfer (issue #15, item 1): ``401 step_up_required`` with a
fresh challenge and nothing moved, the decision stored; ``POST /v1/me/step-up`` with the
texted code; the same transfer sent again with the ``challenge_id`` moves the money once,
and only that transfer -- never another amount, payee or user, never twice."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.fixtures.accounts import PIN, Harness, TestUser, assert_problem
from tests.fixtures.transfers import balance, fund, set_tier

from .helpers import ask_over, decisions, moved, prove, session_on_device, step_up_code, transfer

ALICE, BOB, CAROL = "+8613800000001", "+8613900000002", "+8613700000003"
SECOND = timedelta(seconds=1)


async def people(harness: Harness) -> tuple[TestUser, TestUser, TestUser]:
    alice = await harness.user(phone=ALICE, pin=PIN)
    bob = await harness.user(phone=BOB, pin=PIN)
    carol = await harness.user(phone=CAROL, pin=PIN)
    for person in (alice, bob, carol):
        await set_tier(harness, person, 3)
    await fund(harness, alice, "10000.00")
    await fund(harness, carol, "500.00")
    return alice, bob, carol


def challenged(response: httpx.Response) -> str:
    """The challenge id of a ``step_up_required`` answer (asserted)."""
    body = assert_problem(response, 401, "step_up_required")
    assert body["methods"] == ["sms"]
    assert body["challenge_id"].startswith("chl_")
    return str(body["challenge_id"])


async def test_a_challenged_transfer_goes_through_once_after_the_step_up(
    harness: Harness,
) -> None:
    alice, bob, _ = await people(harness)
    await ask_over(harness, "100")
    before = await moved(harness, alice, bob)
    challenge = challenged(await transfer(harness, alice, BOB, "100.00", key="k-1"))
    # Nothing moved; the decision is stored, without a step-up.
    assert await moved(harness, alice, bob) == before
    [refused] = await decisions(harness)
    assert (refused.verdict, refused.event, refused.amount) == ("challenge", "transfer", 100_00)
    assert [fired["name"] for fired in refused.fired] == ["ask"]
    assert "step_up" not in refused.features
    # Sent again before the step-up is passed: challenged again, nothing moved.
    challenged(await transfer(harness, alice, BOB, "100.00", key="k-1", challenge_id=challenge))
    assert await moved(harness, alice, bob) == before

    passed = await prove(harness, alice, challenge, await step_up_code(harness, ALICE))
    assert passed.status_code == 200, passed.text
    harness.clock.advance(SECOND)
    # The same Idempotency-Key: the 401 freed it.
    done = await transfer(harness, alice, BOB, "100.00", key="k-1", challenge_id=challenge)
    assert done.status_code == 201, done.text
    assert done.json()["transfer"]["status"] == "succeeded"
    assert await balance(harness, alice) == 9900_00
    assert await balance(harness, bob) == 100_00
    stepped = [d for d in await decisions(harness) if "step_up" in d.features]
    assert [(d.verdict, d.features["step_up"]) for d in stepped] == [
        ("challenge", {"passed": True, "challenge_id": challenge})
    ]
    # Never a second free pass: the same challenge again is challenged afresh.
    harness.clock.advance(SECOND)
    after = await moved(harness, alice, bob)
    again = challenged(
        await transfer(harness, alice, BOB, "100.00", key="k-2", challenge_id=challenge)
    )
    assert again != challenge
    assert await moved(harness, alice, bob) == after


async def test_a_step_up_passes_only_the_transfer_it_was_asked_for(harness: Harness) -> None:
    alice, bob, _ = await people(harness)
    await ask_over(harness, "100")
    challenge = challenged(await transfer(harness, alice, BOB, "100.00", key="a"))
    passed = await prove(harness, alice, challenge, await step_up_code(harness, ALICE))
    assert passed.status_code == 200, passed.text
    before = await moved(harness, alice, bob)
    # 200 yuan is not the 100 it was passed for; nor is Carol Bob.
    challenged(await transfer(harness, alice, BOB, "200.00", key="b", challenge_id=challenge))
    challenged(await transfer(harness, alice, CAROL, "100.00", key="c", challenge_id=challenge))
    assert await moved(harness, alice, bob) == before
    # The refusals did not use it up: the transfer it was for still goes through, once.
    done = await transfer(harness, alice, BOB, "100.00", key="d", challenge_id=challenge)
    assert done.status_code == 201, done.text
    assert await balance(harness, bob) == 100_00


async def test_another_users_challenge_does_not_pass(harness: Harness) -> None:
    alice, bob, carol = await people(harness)
    await ask_over(harness, "100")
    carols = challenged(await transfer(harness, carol, BOB, "100.00", key="carol"))
    passed = await prove(harness, carol, carols, await step_up_code(harness, CAROL))
    assert passed.status_code == 200, passed.text
    before = await moved(harness, alice, bob, carol)
    # Alice sends the same amount to the same payee with Carol's passed challenge.
    challenged(await transfer(harness, alice, BOB, "100.00", key="alice", challenge_id=carols))
    assert await moved(harness, alice, bob, carol) == before
    # Nor can Alice prove Carol's challenge herself: it is not hers (404, never its data).
    theirs = await prove(harness, alice, carols, "000000")
    assert_problem(theirs, 404, "not_found")
    # Carol's is still hers to use.
    done = await transfer(harness, carol, BOB, "100.00", key="carol-2", challenge_id=carols)
    assert done.status_code == 201, done.text


async def test_a_wrong_code_moves_nothing(harness: Harness) -> None:
    alice, bob, _ = await people(harness)
    await ask_over(harness, "100")
    challenge = challenged(await transfer(harness, alice, BOB, "100.00", key="a"))
    code = await step_up_code(harness, ALICE)
    wrong = "000000" if code != "000000" else "111111"
    body = assert_problem(
        await prove(harness, alice, challenge, wrong), 400, "verification_code_invalid"
    )
    assert body["remaining_attempts"] >= 1
    before = await moved(harness, alice, bob)
    challenged(await transfer(harness, alice, BOB, "100.00", key="b", challenge_id=challenge))
    assert await moved(harness, alice, bob) == before
    assert await balance(harness, bob) == 0


async def test_a_transfer_below_the_rule_needs_no_step_up(harness: Harness) -> None:
    alice, _, _ = await people(harness)
    await ask_over(harness, "100")
    done = await transfer(harness, alice, BOB, "99.99", key="a")
    assert done.status_code == 201, done.text
    [allowed] = await decisions(harness)
    assert allowed.verdict == "allow"


async def test_the_default_rule_challenges_a_large_transfer_from_a_new_device(
    harness: Harness,
) -> None:
    """``new-device-large-transfer`` (the shipped rules): the session's device was first
    seen less than 24 hours ago and the amount is 2,000 yuan or more."""
    alice, bob, _ = await people(harness)
    now = harness.clock.now()
    new = await session_on_device(harness, alice, first_seen=now - timedelta(hours=24) + SECOND)
    old = await session_on_device(harness, alice, first_seen=now - timedelta(hours=24))
    before = await moved(harness, alice, bob)
    challenge = challenged(await transfer(harness, alice, BOB, "2000.00", key="new", token=new))
    assert await moved(harness, alice, bob) == before
    [refused] = await decisions(harness)
    assert refused.features["is_new_device"] is True
    assert [fired["name"] for fired in refused.fired] == ["new-device-large-transfer"]
    # One fen less from the new device, or the same from a device known for 24 hours: no rule.
    small = await transfer(harness, alice, BOB, "1999.99", key="small", token=new)
    assert small.status_code == 201, small.text
    known = await transfer(harness, alice, BOB, "2000.00", key="old", token=old)
    assert known.status_code == 201, known.text
    # And the challenged one, proved from the new device, goes through.
    code = await step_up_code(harness, ALICE)
    proof = await harness.client.post(
        "/v1/me/step-up",
        json={"challenge_id": challenge, "verification_code": code},
        headers={"Authorization": f"Bearer {new}"},
    )
    assert proof.status_code == 200, proof.text
    done = await transfer(
        harness, alice, BOB, "2000.00", key="new-2", token=new, challenge_id=challenge
    )
    assert done.status_code == 201, done.text
    assert await balance(harness, bob) == 5999_99
