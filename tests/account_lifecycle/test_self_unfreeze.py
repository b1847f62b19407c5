"""Unfreezing one's own account: the owner's or risk control's freeze, with the real name,
the ID number, an SMS code and the PIN (or authenticator); never staff's freeze; 5 failed
tries a day. Every refusal leaves the account frozen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import (
    PIN,
    Harness,
    TestUser,
    assert_problem,
    make_id_number,
    users,
)

UNFREEZE = "/v1/me/unfreeze"
NAME = "张三"
ID_NUMBER = make_id_number()


async def frozen_user(harness: Harness, *, by: str = "self", verified: bool = True) -> TestUser:
    user = await harness.user(pin=PIN)
    if verified:
        response = await harness.client.post(
            "/v1/me/identity",
            json={"real_name": NAME, "id_number": ID_NUMBER},
            headers=harness.auth(user),
        )
        assert response.status_code in (200, 201), response.text
    response = await harness.client.post(
        "/v1/me/freeze", json={"payment_password": PIN}, headers=harness.auth(user)
    )
    assert response.status_code == 200, response.text
    if by != "self":
        async with harness.engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == user.id).values(frozen_by=by))
    return user


async def unfreeze(harness: Harness, user: TestUser, **changes: str) -> Any:
    code = await harness.sms_code(user.phone, CodePurpose.UNFREEZE)
    body = {
        "real_name": NAME,
        "id_number": ID_NUMBER,
        "verification_code": code,
        "payment_password": PIN,
    }
    body.update(changes)
    return await harness.client.post(UNFREEZE, json=body, headers=harness.auth(user))


async def test_the_owners_freeze_is_lifted_with_every_check(harness: Harness) -> None:
    user = await frozen_user(harness)
    sent = await harness.client.post(f"{UNFREEZE}/code", headers=harness.auth(user))
    assert sent.status_code == 202, sent.text
    response = await unfreeze(harness, user)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "active", "unfrozen_at": "2026-03-02T01:00:00Z"}
    row = await harness.row(user)
    assert (row.status, row.frozen_by, row.frozen_at) == ("active", None, None)
    assert (await harness.kinds(user))[-1] == "account_unfrozen"
    assert (await harness.actions())[-1] == "account.unfrozen"
    again = await unfreeze(harness, user)
    assert_problem(again, 409, "account_not_frozen")


async def test_risk_controls_protective_freeze_is_the_owners_to_lift(harness: Harness) -> None:
    user = await frozen_user(harness, by="risk")
    response = await unfreeze(harness, user)
    assert response.status_code == 200, response.text
    assert (await harness.row(user)).status == "active"


async def test_a_staff_freeze_needs_staff(harness: Harness) -> None:
    user = await frozen_user(harness, by="staff:stf_compliance")
    before = await harness.snapshot(user)
    sent = await harness.client.post(f"{UNFREEZE}/code", headers=harness.auth(user))
    body = assert_problem(sent, 409, "unfreeze_needs_staff")
    assert body["reason"] == "frozen_by_staff"
    assert await harness.snapshot(user) == before  # no code was texted
    body = assert_problem(await unfreeze(harness, user), 409, "unfreeze_needs_staff")
    assert body["reason"] == "frozen_by_staff"
    assert (await harness.row(user)).status == "frozen"


async def test_an_account_without_a_real_name_needs_staff(harness: Harness) -> None:
    user = await frozen_user(harness, verified=False)
    body = assert_problem(await unfreeze(harness, user), 409, "unfreeze_needs_staff")
    assert body["reason"] == "identity_not_verified"
    assert (await harness.row(user)).status == "frozen"


async def test_a_wrong_id_code_or_pin_leaves_it_frozen(harness: Harness) -> None:
    user = await frozen_user(harness)
    other_id = make_id_number(sequence="456")
    for changes, left in (
        ({"id_number": other_id}, 4),
        ({"real_name": "李四"}, 3),
        ({"payment_password": "000001"}, 2),
    ):
        body = assert_problem(await unfreeze(harness, user, **changes), 403, "identity_mismatch")
        assert body["remaining_attempts"] == left
        row = await harness.row(user)
        assert (row.status, row.frozen_by) == ("frozen", "self")
    # A wrong code is the code's refusal (its own attempt budget), and nothing changes.
    code = await harness.sms_code(user.phone, CodePurpose.UNFREEZE)
    body = {
        "real_name": NAME,
        "id_number": ID_NUMBER,
        "verification_code": "000000" if code != "000000" else "111111",
        "payment_password": PIN,
    }
    before = await harness.snapshot(user)
    response = await harness.client.post(UNFREEZE, json=body, headers=harness.auth(user))
    assert_problem(response, 400, "verification_code_invalid")
    assert await harness.snapshot(user) == before
    # Malformed identities are typos, not guesses: refused before anything is spent.
    assert_problem(await unfreeze(harness, user, id_number="123"), 422, "invalid_id_number")
    failed = [a for a in await harness.actions() if a == "account.unfreeze_failed"]
    assert len(failed) == 3
    assert (await harness.row(user)).status == "frozen"


async def test_five_failures_a_day_lock_the_unfreeze(harness: Harness) -> None:
    user = await frozen_user(harness)
    for _ in range(4):
        assert_problem(await unfreeze(harness, user, real_name="李四"), 403, "identity_mismatch")
    last = await unfreeze(harness, user, real_name="李四")
    assert assert_problem(last, 429, "too_many_attempts")["retry_after"] > 0
    # Now even the right details are refused, before the code is looked at.
    locked = await unfreeze(harness, user)
    assert assert_problem(locked, 429, "too_many_attempts")["retry_after"] > 0
    assert (await harness.row(user)).status == "frozen"
    # A day later the budget is back.
    harness.clock.advance(timedelta(hours=24, seconds=1))
    response = await unfreeze(harness, user)
    assert response.status_code == 200, response.text


async def test_the_second_factor_is_exactly_one(harness: Harness) -> None:
    user = await frozen_user(harness)
    code = await harness.sms_code(user.phone, CodePurpose.UNFREEZE)
    body = {"real_name": NAME, "id_number": ID_NUMBER, "verification_code": code}
    response = await harness.client.post(UNFREEZE, json=body, headers=harness.auth(user))
    assert_problem(response, 422, "validation_error")
    # An authenticator code where the authenticator is off: refused, the code kept.
    response = await harness.client.post(
        UNFREEZE, json={**body, "totp_code": "123456"}, headers=harness.auth(user)
    )
    assert_problem(response, 409, "totp_not_enabled")
    assert (await harness.row(user)).status == "frozen"


async def test_an_active_account_has_nothing_to_unfreeze(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    sent = await harness.client.post(f"{UNFREEZE}/code", headers=harness.auth(user))
    assert_problem(sent, 409, "account_not_frozen")
    assert_problem(await unfreeze(harness, user), 409, "account_not_frozen")
