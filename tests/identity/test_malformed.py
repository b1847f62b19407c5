"""Malformed phones, passwords, codes and bodies: each refused with its code, nothing changed.

A live ``register`` code exists for PHONE before each call, so "nothing changed" also means
the code was not spent or charged an attempt.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.identity import PASSWORD, PHONE, Wallet

CODES = "/v1/verification-codes"
USERS = "/v1/users"
SESSIONS = "/v1/sessions"
GOOD_CODE = "000000"  # replaced by the live code where the body says so
LIVE = object()


def code_body(phone: Any = PHONE, **extra: Any) -> dict[str, Any]:
    return {"phone": phone, "purpose": "register", **extra}


def user_body(**changes: Any) -> dict[str, Any]:
    return {"phone": PHONE, "verification_code": LIVE, "login_password": PASSWORD, **changes}


CASES: list[tuple[str, str, Any, int, str]] = [
    # Phones: strings that are not accepted mobiles → invalid_phone.
    ("letters", CODES, code_body("abcdefghijk"), 422, "invalid_phone"),
    ("too short", CODES, code_body("1381234567"), 422, "invalid_phone"),
    ("too long", CODES, code_body("138123456789"), 422, "invalid_phone"),
    ("far too long", CODES, code_body("1" * 40), 422, "invalid_phone"),
    ("landline", CODES, code_body("01012345678"), 422, "invalid_phone"),
    ("landline dashed", CODES, code_body("010-1234-5678"), 422, "invalid_phone"),
    ("+1 toll-free", CODES, code_body("+1 800 555 0123"), 422, "invalid_phone"),
    ("+1 premium", CODES, code_body("+1 900 555 0199"), 422, "invalid_phone"),
    ("empty", CODES, code_body(""), 422, "invalid_phone"),
    ("whitespace", CODES, code_body("   \t "), 422, "invalid_phone"),
    ("emoji", CODES, code_body("📱13812345678"), 422, "invalid_phone"),
    ("sql-ish", CODES, code_body("13812345678' OR '1'='1"), 422, "invalid_phone"),
    ("sql drop", CODES, code_body("'; DROP TABLE users; --"), 422, "invalid_phone"),
    ("vanity letters", CODES, code_body("138ABCD5678"), 422, "invalid_phone"),
    ("country code only", CODES, code_body("+86 138"), 422, "invalid_phone"),
    ("foreign without +", CODES, code_body("447911123456"), 422, "invalid_phone"),
    ("register bad phone", USERS, user_body(phone="phone"), 422, "invalid_phone"),
    (
        "sign-in bad phone",
        SESSIONS,
        {"phone": "12345", "login_password": PASSWORD},
        422,
        "invalid_phone",
    ),
    # Phones that are not even strings, or absurdly long → validation_error.
    ("phone as number", CODES, code_body(13812345678), 422, "validation_error"),
    ("phone null", CODES, code_body(None), 422, "validation_error"),
    ("phone list", CODES, code_body(["13812345678"]), 422, "validation_error"),
    ("phone object", CODES, code_body({"n": "13812345678"}), 422, "validation_error"),
    ("phone 65 chars", CODES, code_body("1" * 65), 422, "validation_error"),
    ("no phone", CODES, {"purpose": "register"}, 422, "validation_error"),
    # Purposes and body shapes.
    ("unknown purpose", CODES, {"phone": PHONE, "purpose": "hack"}, 422, "validation_error"),
    ("internal purpose", CODES, {"phone": PHONE, "purpose": "bind_card"}, 422, "validation_error"),
    ("upper-case purpose", CODES, {"phone": PHONE, "purpose": "REGISTER"}, 422, "validation_error"),
    ("extra field", CODES, code_body(admin=True), 422, "validation_error"),
    ("body is a list", CODES, [PHONE, "register"], 422, "validation_error"),
    ("body not json", CODES, "phone=13812345678", 422, "validation_error"),
    # Login passwords at registration: the policy → weak_password (no code spent).
    ("password too short", USERS, user_body(login_password="short"), 422, "weak_password"),
    ("password empty", USERS, user_body(login_password=""), 422, "weak_password"),
    ("password too long", USERS, user_body(login_password="x1" * 65), 422, "weak_password"),
    ("password common", USERS, user_body(login_password="password"), 422, "weak_password"),
    ("password digits", USERS, user_body(login_password="12345678"), 422, "weak_password"),
    ("password is phone", USERS, user_body(login_password="13812345678"), 422, "weak_password"),
    ("password has phone", USERS, user_body(login_password="me13812345678"), 422, "weak_password"),
    ("password one char", USERS, user_body(login_password="aaaaaaaaaa"), 422, "weak_password"),
    ("password a run", USERS, user_body(login_password="abcdefghij"), 422, "weak_password"),
    # Passwords that are not strings, or absurd → validation_error.
    ("password number", USERS, user_body(login_password=12345678), 422, "validation_error"),
    ("password null", USERS, user_body(login_password=None), 422, "validation_error"),
    ("password bool", USERS, user_body(login_password=True), 422, "validation_error"),
    ("password list", USERS, user_body(login_password=["pw"]), 422, "validation_error"),
    ("password 1025 chars", USERS, user_body(login_password="y" * 1025), 422, "validation_error"),
    # Codes, locales, devices.
    ("code five digits", USERS, user_body(verification_code="12345"), 422, "validation_error"),
    ("code letters", USERS, user_body(verification_code="abcdef"), 422, "validation_error"),
    ("code number", USERS, user_body(verification_code=123456), 422, "validation_error"),
    ("locale unknown", USERS, user_body(locale="fr"), 422, "validation_error"),
    ("device id spaces", USERS, user_body(device_id="my phone"), 422, "validation_error"),
    ("device id too long", USERS, user_body(device_id="d" * 129), 422, "validation_error"),
    # Sign-in shapes.
    (
        "both credentials",
        SESSIONS,
        {"phone": PHONE, "login_password": PASSWORD, "verification_code": "123456"},
        422,
        "validation_error",
    ),
    ("no credential", SESSIONS, {"phone": PHONE}, 422, "validation_error"),
    ("empty password", SESSIONS, {"phone": PHONE, "login_password": ""}, 422, "validation_error"),
    ("password object", SESSIONS, {"phone": PHONE, "login_password": {}}, 422, "validation_error"),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_malformed_input_is_refused_and_changes_nothing(
    wallet: Wallet, path: str, body: Any, status: int, code: str
) -> None:
    await wallet.ask_code()
    live = await wallet.last_code()
    if isinstance(body, dict) and body.get("verification_code") is LIVE:
        body = {**body, "verification_code": live}
    before = await wallet.snapshot()
    if isinstance(body, str):
        response = await wallet.client.post(
            path, content=body, headers={"Content-Type": "application/json"}
        )
    else:
        response = await wallet.client.post(path, json=body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await wallet.snapshot() == before
    assert await wallet.count("users") == 0


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({case[0] for case in CASES}) == len(CASES)
