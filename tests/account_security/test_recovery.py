"""POST /v1/password-resets: login and payment passwords, by SMS code (and ID number)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from ewallet.models.identity import CodePurpose
from tests.fixtures.accounts import (
    PIN,
    Harness,
    TestUser,
    assert_problem,
    make_id_number,
    sessions,
    users,
)

URL = "/v1/password-resets"
NEW_LOGIN = "a much better passphrase"
ID_NUMBER = make_id_number(born="19850612", sequence="001")


def reset_body(user: TestUser, code: str, **fields: Any) -> dict[str, Any]:
    return {"phone": user.phone, "verification_code": code, **fields}


async def revoked(harness: Harness, user: TestUser) -> dict[str, bool]:
    async with harness.engine.connect() as conn:
        rows = await conn.execute(
            select(sessions.c.id, sessions.c.revoked_at).where(sessions.c.user_id == user.id)
        )
        return {row.id: row.revoked_at is not None for row in rows}


async def verified_user(harness: Harness, phone: str = "+8613812345678") -> TestUser:
    user = await harness.user(phone=phone, pin=PIN)
    response = await harness.client.post(
        "/v1/me/identity",
        json={"real_name": "李四", "id_number": ID_NUMBER},
        headers=harness.auth(user),
    )
    assert response.status_code == 200, response.text
    return user


# --- Login password ----------------------------------------------------------------------


async def test_login_reset_keeps_only_the_resetting_device(harness: Harness) -> None:
    user = await harness.user()
    other = await harness.new_session(user.id)
    async with harness.engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(login_failures=5, login_locked_until=harness.clock.now() + timedelta(hours=1))
        )
    code = await harness.sms_code(user.phone, CodePurpose.RESET_LOGIN_PASSWORD)
    body = reset_body(user, code, kind="login", new_password=NEW_LOGIN)
    response = await harness.client.post(URL, json=body, headers=harness.auth(user))
    assert response.status_code == 204, response.text
    row = await harness.row(user)
    assert await harness.security.passwords.verify(row.login_password_hash, NEW_LOGIN)
    assert (row.login_failures, row.login_locked_until) == (0, None)
    assert await revoked(harness, user) == {user.session_id: False, other: True}
    assert await harness.kinds(user) == ["login_password_reset"]
    assert await harness.actions() == ["login_password.reset"]
    # The code was used up.
    again = await harness.client.post(URL, json=body)
    assert_problem(again, 400, "verification_code_expired")


async def test_login_reset_without_a_token_signs_out_everywhere(harness: Harness) -> None:
    user = await harness.user()
    code = await harness.sms_code(user.phone, CodePurpose.RESET_LOGIN_PASSWORD)
    body = reset_body(user, code, kind="login", new_password=NEW_LOGIN)
    garbage = {"Authorization": "Bearer not-a-token"}  # ignored, not refused
    response = await harness.client.post(URL, json=body, headers=garbage)
    assert response.status_code == 204, response.text
    assert await revoked(harness, user) == {user.session_id: True}


async def test_wrong_code_counts_and_changes_nothing(harness: Harness) -> None:
    user = await harness.user()
    code = await harness.sms_code(user.phone, CodePurpose.RESET_LOGIN_PASSWORD)
    wrong = "000000" if code != "000000" else "111111"
    before = await harness.snapshot(user)
    response = await harness.client.post(
        URL, json=reset_body(user, wrong, kind="login", new_password=NEW_LOGIN)
    )
    assert assert_problem(response, 400, "verification_code_invalid")["remaining_attempts"] == 4
    assert await harness.snapshot(user) == before


async def test_a_code_of_another_purpose_does_not_work(harness: Harness) -> None:
    user = await harness.user()
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    before = await harness.snapshot(user)
    response = await harness.client.post(
        URL, json=reset_body(user, code, kind="login", new_password=NEW_LOGIN)
    )
    assert_problem(response, 400, "verification_code_expired")
    assert await harness.snapshot(user) == before


async def test_unregistered_phone_reveals_nothing(harness: Harness) -> None:
    bystander = await harness.user()
    before = await harness.snapshot(bystander)
    stranger = TestUser("nobody", "+8613999999999", "none")
    no_code = await harness.client.post(
        URL, json=reset_body(stranger, "123987", kind="login", new_password=NEW_LOGIN)
    )
    # Even a proven code (if one were ever sent) gets the very same answer.
    code = await harness.sms_code(stranger.phone, CodePurpose.RESET_LOGIN_PASSWORD)
    proven = await harness.client.post(
        URL, json=reset_body(stranger, code, kind="login", new_password=NEW_LOGIN)
    )
    for response in (no_code, proven):
        assert_problem(response, 400, "verification_code_expired")
    assert no_code.json() == proven.json()
    assert await harness.snapshot(bystander) == before


async def test_weak_login_password_keeps_the_code(harness: Harness) -> None:
    user = await harness.user()
    code = await harness.sms_code(user.phone, CodePurpose.RESET_LOGIN_PASSWORD)
    before = await harness.snapshot(user)
    response = await harness.client.post(
        URL, json=reset_body(user, code, kind="login", new_password="12345678")
    )
    assert_problem(response, 422, "weak_password")
    assert await harness.snapshot(user) == before
    fine = await harness.client.post(
        URL, json=reset_body(user, code, kind="login", new_password=NEW_LOGIN)
    )
    assert fine.status_code == 204


async def test_invalid_phone_and_kind(harness: Harness) -> None:
    user = await harness.user()
    before = await harness.snapshot(user)
    response = await harness.client.post(
        URL,
        json={"phone": "12345", "verification_code": "1", "kind": "login", "new_password": "x"},
    )
    assert_problem(response, 422, "invalid_phone")
    response = await harness.client.post(
        URL, json=reset_body(user, "123456", kind="email", new_password=NEW_LOGIN)
    )
    assert_problem(response, 422, "validation_error")
    assert await harness.snapshot(user) == before


# --- Payment password --------------------------------------------------------------------


async def test_payment_reset_unlocks(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    for wrong in ("000001", "000002", "000003"):
        await harness.client.post(
            "/test/pay", json={"payment_password": wrong}, headers=harness.auth(user)
        )
    assert (await harness.row(user)).payment_locked_until is not None
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    response = await harness.client.post(
        URL, json=reset_body(user, code, kind="payment", new_password="730492")
    )
    assert response.status_code == 204, response.text
    row = await harness.row(user)
    assert (row.payment_failures, row.payment_locked_until) == (0, None)
    paid = await harness.client.post(
        "/test/pay", json={"payment_password": "730492"}, headers=harness.auth(user)
    )
    assert paid.status_code == 201
    assert await harness.kinds(user) == ["payment_password_locked", "payment_password_reset"]
    assert (await harness.actions())[-1] == "payment_password.reset"


async def test_weak_new_pin_on_reset(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    before = await harness.snapshot(user)
    response = await harness.client.post(
        URL, json=reset_body(user, code, kind="payment", new_password="666666")
    )
    assert_problem(response, 422, "weak_payment_password")
    assert await harness.snapshot(user) == before


async def test_reset_pin_equal_to_login_password(harness: Harness) -> None:
    user = await harness.user(login_password="730492")
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    before = await harness.snapshot(user)
    response = await harness.client.post(
        URL, json=reset_body(user, code, kind="payment", new_password="730492")
    )
    assert_problem(response, 422, "same_as_login_password")
    assert await harness.snapshot(user) == before


async def test_verified_owner_must_give_the_id_number(harness: Harness) -> None:
    user = await verified_user(harness)
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    before = await harness.snapshot(user)
    body = reset_body(user, code, kind="payment", new_password="730492")
    response = await harness.client.post(URL, json=body)
    assert assert_problem(response, 422, "identity_required")["factors"] == ["id_number"]
    assert await harness.snapshot(user) == before
    # The code was not spent; the ID number (lower-case x or not) completes it.
    body["identity"] = f" {ID_NUMBER.lower()} "
    response = await harness.client.post(URL, json=body)
    assert response.status_code == 204, response.text


async def test_birthday_pin_refused_after_the_proof(harness: Harness) -> None:
    user = await verified_user(harness)
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    before = await harness.snapshot(user)
    body = reset_body(user, code, kind="payment", new_password="850612", identity=ID_NUMBER)
    response = await harness.client.post(URL, json=body)
    assert assert_problem(response, 422, "weak_payment_password")["reasons"] == ["birthday"]
    assert await harness.snapshot(user) == before


async def test_identity_mismatch_burns_the_code_and_is_limited(harness: Harness) -> None:
    user = await verified_user(harness)
    wrong_id = make_id_number(born="19850612", sequence="002")
    before = await harness.snapshot(user)
    for attempt in range(5):
        code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
        body = reset_body(user, code, kind="payment", new_password="730492", identity=wrong_id)
        response = await harness.client.post(URL, json=body)
        problem = assert_problem(response, 403, "identity_mismatch")
        assert problem["remaining_attempts"] == 4 - attempt
        # The code is spent: the same code again is no longer live.
        body["identity"] = ID_NUMBER
        assert_problem(await harness.client.post(URL, json=body), 400, "verification_code_expired")
    after = await harness.snapshot(user)
    assert after["user"] == before["user"]
    assert after["notifications"] == before["notifications"]
    assert after["audit"] == before["audit"] + 5
    # The sixth try is refused for a day, even with the right number.
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    body = reset_body(user, code, kind="payment", new_password="730492", identity=ID_NUMBER)
    problem = assert_problem(await harness.client.post(URL, json=body), 429, "too_many_attempts")
    assert problem["retry_after"] == 24 * 3600 + 1
    harness.clock.advance(timedelta(hours=24))
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    body["verification_code"] = code
    assert (await harness.client.post(URL, json=body)).status_code == 204


async def test_five_wrong_codes_kill_the_code(harness: Harness) -> None:
    user = await harness.user(pin=PIN)
    code = await harness.sms_code(user.phone, CodePurpose.RESET_PAYMENT_PASSWORD)
    wrong = "000000" if code != "000000" else "111111"
    before = await harness.snapshot(user)
    body = reset_body(user, wrong, kind="payment", new_password="730492")
    for _ in range(4):
        assert_problem(await harness.client.post(URL, json=body), 400, "verification_code_invalid")
    problem = assert_problem(await harness.client.post(URL, json=body), 429, "too_many_attempts")
    assert problem["retry_after"] == 60
    # Dead: even the right code no longer works.
    body["verification_code"] = code
    assert_problem(await harness.client.post(URL, json=body), 400, "verification_code_expired")
    assert await harness.snapshot(user) == before
