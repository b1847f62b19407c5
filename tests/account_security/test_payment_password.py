"""Payment password: the policy, setting and changing it, and the 3-strikes lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from ewallet.audit.service import Actor
from ewallet.identity.payment_password.policy import payment_password_problems
from ewallet.identity.payment_password.service import verify_payment_password
from ewallet.security.passwords import PinHasher
from tests.fixtures.accounts import (
    PIN,
    START,
    Harness,
    TestUser,
    assert_problem,
    make_app,
    make_id_number,
    users,
)
from tests.fixtures.serving import serving

PUT = "/v1/me/payment-password"

# --- Policy (no database) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("pin", "reason"),
    [
        ("", "not_six_digits"),
        ("12345", "not_six_digits"),
        ("3859160", "not_six_digits"),
        ("38591a", "not_six_digits"),
        (" 38591", "not_six_digits"),
        ("385 16", "not_six_digits"),
        ("３８５９１６", "not_six_digits"),  # full-width digits
        ("٣٨٥٩١٦", "not_six_digits"),  # Arabic-Indic digits: isdigit(), but not ASCII
        ("+38591", "not_six_digits"),
        ("111111", "one_digit_repeated"),
        ("000000", "one_digit_repeated"),
        ("123456", "sequence"),
        ("654321", "sequence"),
        ("012345", "sequence"),
        ("890123", "sequence"),  # wraps around 9 → 0
        ("210987", "sequence"),
        ("121212", "repeating_pattern"),
        ("123123", "repeating_pattern"),
        ("112233", "repeating_pattern"),
        ("111222", "repeating_pattern"),
        ("909090", "repeating_pattern"),
        ("123321", "palindrome"),
        ("385583", "palindrome"),
        ("147258", "common"),
        ("520131", "common"),
    ],
)
def test_trivial_or_malformed_pins_are_refused(pin: str, reason: str) -> None:
    assert reason in payment_password_problems(pin)


@pytest.mark.parametrize("pin", ["385916", "730492", "918273", "604817", "100923"])
def test_ordinary_pins_pass(pin: str) -> None:
    assert payment_password_problems(pin, phone="+8613890271846") == []


def test_personal_digits_are_refused() -> None:
    id_number = make_id_number(born="19880415", sequence="731")
    tail = id_number[-6:]
    assert tail.isdigit()
    for pin, reason in [
        ("880415", "birthday"),  # YYMMDD
        ("041588", "birthday"),  # MMDDYY
        ("150488", "birthday"),  # DDMMYY
        ("198804", "birthday"),  # YYYYMM
        (tail, "id_number_tail"),
        ("271846", "phone_number"),
    ]:
        problems = payment_password_problems(pin, phone="+8613890271846", id_number=id_number)
        assert reason in problems, (pin, problems)


# --- Setting and changing --------------------------------------------------------------


async def test_first_pin_is_set_notified_and_audited(harness: Harness) -> None:
    user = await harness.user()
    response = await harness.client.put(
        PUT, json={"payment_password": PIN}, headers=harness.auth(user)
    )
    assert response.status_code == 204, response.text
    row = await harness.row(user)
    assert row.payment_password_hash is not None
    assert await harness.security.pins.verify(row.payment_password_hash, PIN)
    assert PIN not in row.payment_password_hash
    assert await harness.kinds(user) == ["payment_password_set"]
    assert await harness.actions() == ["payment_password.set"]
    assert (await harness.snapshot(user))["outbox"] == 1  # the notice's SMS


async def test_second_set_without_current_is_refused(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    before = await harness.snapshot(user)
    response = await harness.client.put(
        PUT, json={"payment_password": "730492"}, headers=harness.auth(user)
    )
    assert_problem(response, 409, "payment_password_already_set")
    assert await harness.snapshot(user) == before


@pytest.mark.parametrize(
    ("pin", "reason"),
    [("123456", "sequence"), ("12345", "not_six_digits"), ("345678", "sequence")],
)
async def test_weak_pin_changes_nothing(harness: Harness, pin: str, reason: str) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await harness.client.put(
        PUT, json={"payment_password": pin}, headers=harness.auth(user)
    )
    body = assert_problem(response, 422, "weak_payment_password")
    assert reason in body["reasons"]
    assert await harness.snapshot(user) == before


async def test_phone_digits_refused(harness: Harness) -> None:
    user = await harness.user(phone="+8613890271846")
    response = await harness.client.put(
        PUT, json={"payment_password": "271846"}, headers=harness.auth(user)
    )
    assert assert_problem(response, 422, "weak_payment_password")["reasons"] == ["phone_number"]


async def test_pin_equal_to_login_password_is_refused(harness: Harness) -> None:
    user = await harness.user(login_password="730492")  # a legacy short login password
    before = await harness.snapshot(user)
    response = await harness.client.put(
        PUT, json={"payment_password": "730492"}, headers=harness.auth(user)
    )
    assert_problem(response, 422, "same_as_login_password")
    assert await harness.snapshot(user) == before


async def test_change_with_current_pin(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    response = await harness.client.put(
        PUT,
        json={"current_payment_password": PIN, "payment_password": "730492"},
        headers=harness.auth(user),
    )
    assert response.status_code == 204, response.text
    row = await harness.row(user)
    assert await harness.security.pins.verify(row.payment_password_hash, "730492")
    assert row.payment_failures == 0
    assert await harness.kinds(user) == ["payment_password_changed"]
    assert await harness.actions() == ["payment_password.changed"]


async def test_change_with_wrong_current_counts_and_changes_nothing_else(
    harness: Harness,
) -> None:
    user = await harness.user(pin=PIN)
    before = await harness.snapshot(user)
    response = await harness.client.put(
        PUT,
        json={"current_payment_password": "000001", "payment_password": "730492"},
        headers=harness.auth(user),
    )
    assert assert_problem(response, 403, "payment_password_invalid")["remaining_attempts"] == 2
    after = await harness.snapshot(user)
    assert after["user"]["payment_failures"] == 1
    assert after["user"]["payment_password_hash"] == before["user"]["payment_password_hash"]
    assert after["notifications"] == before["notifications"]
    assert after["outbox"] == before["outbox"]
    assert await harness.actions() == ["payment_password.wrong"]


async def test_change_without_a_pin_is_not_set(harness: Harness) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await harness.client.put(
        PUT,
        json={"current_payment_password": PIN, "payment_password": "730492"},
        headers=harness.auth(user),
    )
    assert_problem(response, 409, "payment_password_not_set")
    assert await harness.snapshot(user) == before


async def test_unknown_field_is_a_validation_error(harness: Harness) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await harness.client.put(
        PUT, json={"payment_password": PIN, "current_password": "x"}, headers=harness.auth(user)
    )
    assert_problem(response, 422, "validation_error")
    assert await harness.snapshot(user) == before


async def test_birthday_refused_once_identity_is_verified(harness: Harness) -> None:
    user = await harness.user()
    id_number = make_id_number(born="19880415")
    response = await harness.client.post(
        "/v1/me/identity",
        json={"real_name": "张三", "id_number": id_number},
        headers=harness.auth(user),
    )
    assert response.status_code == 200, response.text
    response = await harness.client.put(
        PUT, json={"payment_password": "880415"}, headers=harness.auth(user)
    )
    assert assert_problem(response, 422, "weak_payment_password")["reasons"] == ["birthday"]


# --- The lock --------------------------------------------------------------------------


async def pay(harness: Harness, user_pin: str, user: TestUser) -> tuple[int, dict[str, Any]]:
    response = await harness.client.post(
        "/test/pay", json={"payment_password": user_pin}, headers=harness.auth(user)
    )
    return response.status_code, response.json()


async def test_three_wrong_lock_for_three_hours_across_processes(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    assert await pay(harness, PIN, user) == (201, {"status": "paid"})
    status, body = await pay(harness, "000001", user)
    assert (status, body["code"], body["remaining_attempts"]) == (
        403,
        "payment_password_invalid",
        2,
    )
    status, body = await pay(harness, "000002", user)
    assert (status, body["remaining_attempts"]) == (403, 1)
    assert await harness.kinds(user) == []
    status, body = await pay(harness, "000003", user)
    assert (status, body["code"], body["retry_after"]) == (423, "payment_password_locked", 10800)
    assert await harness.kinds(user) == ["payment_password_locked"]
    row = await harness.row(user)
    assert row.payment_failures == 3
    assert row.payment_locked_until == harness.clock.now() + timedelta(hours=3)
    # The right PIN does not help while locked, and costs nothing.
    before = await harness.snapshot(user)
    status, body = await pay(harness, PIN, user)
    assert (status, body["code"]) == (423, "payment_password_locked")
    assert await harness.snapshot(user) == before
    response = await harness.client.put(
        PUT,
        json={"current_payment_password": PIN, "payment_password": "730492"},
        headers=harness.auth(user),
    )
    assert_problem(response, 423, "payment_password_locked")
    assert await harness.snapshot(user) == before
    # Another process (a second app, its own engine) sees the same lock.
    harness.clock.advance(timedelta(hours=2, minutes=59))
    async with serving(make_app(harness.settings, harness.clock)) as other:
        response = await other.post(
            "/test/pay", json={"payment_password": PIN}, headers=harness.auth(user)
        )
        assert_problem(response, 423, "payment_password_locked")
        assert response.json()["retry_after"] == 60
    # After 3 hours the lock is served: a fresh budget.
    harness.clock.advance(timedelta(minutes=1))
    assert await pay(harness, PIN, user) == (201, {"status": "paid"})
    row = await harness.row(user)
    assert (row.payment_failures, row.payment_locked_until) == (0, None)
    assert await harness.actions() == [
        "payment_password.wrong",
        "payment_password.wrong",
        "payment_password.locked",
    ]


async def test_a_correct_pin_resets_the_count(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    await pay(harness, "000001", user)
    await pay(harness, "000002", user)
    assert (await pay(harness, PIN, user))[0] == 201  # the last try: its lock is lifted
    row = await harness.row(user)
    assert (row.payment_failures, row.payment_locked_until) == (0, None)
    assert (await pay(harness, "000003", user))[1]["remaining_attempts"] == 2


async def test_money_gate_order(harness: Harness) -> None:
    no_pin = await harness.user(phone="+8613900000001")
    status, body = await pay(harness, PIN, no_pin)
    assert (status, body["code"]) == (409, "payment_password_not_set")
    # Frozen comes first, even before "no PIN".
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == no_pin.id).values(status="frozen", frozen_by="risk")
        )
    before = await harness.snapshot(no_pin)
    status, body = await pay(harness, PIN, no_pin)
    assert (status, body["code"], body["frozen_by"]) == (423, "account_frozen", "risk")
    assert await harness.snapshot(no_pin) == before


async def test_a_check_that_dies_midway_counts_and_cannot_wedge_the_pin(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await harness.user(pin=PIN)
    await pay(harness, "000001", user)
    await pay(harness, "000002", user)

    async def crash(self: object, stored_hash: str, pin: str) -> bool:
        raise RuntimeError("the process died while hashing")

    monkeypatch.setattr(PinHasher, "verify", crash)
    with pytest.raises(RuntimeError):
        await verify_payment_password(
            harness.engine,
            clock=harness.clock,
            settings=harness.settings,
            security=harness.security,
            user_id=user.id,
            pin=PIN,
            actor=Actor("user", user.id),
        )
    monkeypatch.undo()
    row = await harness.row(user)
    assert (row.payment_failures, row.payment_locked_until) == (3, START + timedelta(hours=3))
    assert (await pay(harness, PIN, user))[1]["code"] == "payment_password_locked"
    harness.clock.advance(timedelta(hours=3))
    assert (await pay(harness, PIN, user))[0] == 201
