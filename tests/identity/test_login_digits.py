"""The payment password is never the login password's digits, in either direction (issue #3)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import Table, select, update

from ewallet.identity.login_digits import digit_windows, digits_of
from ewallet.models.identity import User
from tests.fixtures.identity import E164, PASSWORD, PHONE, Wallet, bearer

users = cast(Table, User.__table__)
PIN_URL = "/v1/me/payment-password"
LOGIN_URL = "/v1/me/login-password"
RESET_URL = "/v1/password-resets"
DIGITS_PASSWORD = "wallet730492"
DIGITS_PIN = "730492"
OTHER_PIN = "730481"


@pytest.mark.parametrize(
    ("password", "windows"),
    [
        ("wallet730492", ["730492"]),
        ("ab12cd3456ef", ["123456"]),  # separators dropped: the digits in order
        ("pass12345678", ["123456", "234567", "345678"]),
        ("ｗａｌｌｅｔ７３０４９２", ["730492"]),  # full-width digits are digits
        ("no digits at all", []),
        ("only 12345 here", []),
        ("000000000x", ["000000"]),  # each window once
    ],
)
def test_digit_windows(password: str, windows: list[str]) -> None:
    assert digit_windows(password) == windows


def test_digits_of_keeps_order() -> None:
    assert digits_of("a1b2c3") == "123"


async def user_row(wallet: Wallet) -> dict[str, Any]:
    [row] = await wallet.rows(select(users).where(users.c.phone == E164))
    return dict(row._mapping)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def test_pin_equal_to_the_login_digits_is_refused_and_changes_nothing(
    wallet: Wallet,
) -> None:
    access = (await wallet.register(password=DIGITS_PASSWORD))["tokens"]["access_token"]
    row = await user_row(wallet)
    assert row["login_password_digit_digests"] is not None
    assert len(row["login_password_digit_digests"]) == 1
    before, snapshot = row, await wallet.snapshot()

    refused = await wallet.client.put(
        PIN_URL, json={"payment_password": DIGITS_PIN}, headers=bearer(access)
    )
    assert problem(refused, 422, "weak_payment_password")["reasons"] == [
        "matches_login_password_digits"
    ]
    assert await user_row(wallet) == before
    assert await wallet.snapshot() == snapshot

    accepted = await wallet.client.put(
        PIN_URL, json={"payment_password": OTHER_PIN}, headers=bearer(access)
    )
    assert accepted.status_code == 204, accepted.text
    assert (await user_row(wallet))["payment_password_hash"] is not None


async def test_changing_the_pin_checks_the_digits_after_the_current_pin(wallet: Wallet) -> None:
    access = (await wallet.register(password=DIGITS_PASSWORD))["tokens"]["access_token"]
    headers = bearer(access)
    set_first = await wallet.client.put(
        PIN_URL, json={"payment_password": OTHER_PIN}, headers=headers
    )
    assert set_first.status_code == 204
    # A wrong current PIN says nothing about the login password's digits.
    wrong = await wallet.client.put(
        PIN_URL,
        json={"current_payment_password": "902817", "payment_password": DIGITS_PIN},
        headers=headers,
    )
    problem(wrong, 403, "payment_password_invalid")
    before, snapshot = await user_row(wallet), await wallet.snapshot()
    refused = await wallet.client.put(
        PIN_URL,
        json={"current_payment_password": OTHER_PIN, "payment_password": DIGITS_PIN},
        headers=headers,
    )
    assert problem(refused, 422, "weak_payment_password")["reasons"] == [
        "matches_login_password_digits"
    ]
    after = await user_row(wallet)
    # The right current PIN cleared the wrong entry before; nothing else moved.
    assert after == {**before, "payment_failures": 0}
    assert await wallet.snapshot() == snapshot


async def test_login_password_holding_the_pin_is_refused(wallet: Wallet) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    headers = bearer(access)
    pin = await wallet.client.put(PIN_URL, json={"payment_password": DIGITS_PIN}, headers=headers)
    assert pin.status_code == 204
    before, snapshot = await user_row(wallet), await wallet.snapshot()

    # Without the current password there is no answer about the PIN.
    guessed = await wallet.client.put(
        LOGIN_URL,
        json={"current_password": "not the password", "new_password": DIGITS_PASSWORD},
        headers=headers,
    )
    problem(guessed, 401, "invalid_credentials")
    refused = await wallet.client.put(
        LOGIN_URL,
        json={"current_password": PASSWORD, "new_password": DIGITS_PASSWORD},
        headers=headers,
    )
    assert problem(refused, 422, "weak_password")["reasons"] == ["matches_payment_password"]
    after = await user_row(wallet)
    assert after["login_password_hash"] == before["login_password_hash"]
    assert after["login_password_digit_digests"] == before["login_password_digit_digests"]
    assert (await wallet.snapshot())["live_sessions"] == snapshot["live_sessions"]
    signed_in = await wallet.sign_in()  # the old password still works
    assert signed_in.status_code == 201, signed_in.text
    headers = bearer(signed_in.json()["tokens"]["access_token"])

    changed = await wallet.client.put(
        LOGIN_URL,
        json={"current_password": PASSWORD, "new_password": "wallet730493"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await user_row(wallet))["login_password_digit_digests"] != before[
        "login_password_digit_digests"
    ]


async def test_login_reset_holding_the_pin_is_refused_and_keeps_the_code(wallet: Wallet) -> None:
    access = (await wallet.register())["tokens"]["access_token"]
    pin = await wallet.client.put(
        PIN_URL, json={"payment_password": DIGITS_PIN}, headers=bearer(access)
    )
    assert pin.status_code == 204
    assert (await wallet.ask_code(PHONE, "reset_login_password")).status_code == 202
    code = await wallet.last_code()
    before, snapshot = await user_row(wallet), await wallet.snapshot()
    body = {"phone": PHONE, "verification_code": code, "kind": "login"}

    refused = await wallet.client.post(RESET_URL, json={**body, "new_password": DIGITS_PASSWORD})
    assert problem(refused, 422, "weak_password")["reasons"] == ["matches_payment_password"]
    assert await user_row(wallet) == before
    assert await wallet.snapshot() == snapshot  # the code is still unused

    accepted = await wallet.client.post(RESET_URL, json={**body, "new_password": "wallet730493"})
    assert accepted.status_code == 204, accepted.text


async def test_payment_reset_to_the_login_digits_is_refused(wallet: Wallet) -> None:
    await wallet.register(password=DIGITS_PASSWORD)
    assert (await wallet.ask_code(PHONE, "reset_payment_password")).status_code == 202
    code = await wallet.last_code()
    before, snapshot = await user_row(wallet), await wallet.snapshot()
    body = {"phone": PHONE, "verification_code": code, "kind": "payment"}

    refused = await wallet.client.post(RESET_URL, json={**body, "new_password": DIGITS_PIN})
    assert problem(refused, 422, "weak_payment_password")["reasons"] == [
        "matches_login_password_digits"
    ]
    assert await user_row(wallet) == before
    assert await wallet.snapshot() == snapshot

    accepted = await wallet.client.post(RESET_URL, json={**body, "new_password": OTHER_PIN})
    assert accepted.status_code == 204, accepted.text


async def test_older_accounts_are_checked_the_old_way_until_they_sign_in(wallet: Wallet) -> None:
    access = (await wallet.register(password=DIGITS_PASSWORD))["tokens"]["access_token"]
    async with wallet.engine.begin() as conn:  # as if registered before the digits rule
        await conn.execute(update(users).values(login_password_digit_digests=None))

    first = await wallet.client.put(
        PIN_URL, json={"payment_password": DIGITS_PIN}, headers=bearer(access)
    )
    assert first.status_code == 204, first.text  # nothing known to compare with

    signed_in = await wallet.sign_in(password=DIGITS_PASSWORD)
    assert signed_in.status_code == 201, signed_in.text
    assert (await user_row(wallet))["login_password_digit_digests"] is not None
    access = signed_in.json()["tokens"]["access_token"]
    changed = await wallet.client.put(
        PIN_URL,
        json={"current_payment_password": DIGITS_PIN, "payment_password": DIGITS_PIN[::-1]},
        headers=bearer(access),
    )
    assert changed.status_code == 204, changed.text
    back = await wallet.client.put(
        PIN_URL,
        json={"current_payment_password": DIGITS_PIN[::-1], "payment_password": DIGITS_PIN},
        headers=bearer(access),
    )
    problem(back, 422, "weak_payment_password")
